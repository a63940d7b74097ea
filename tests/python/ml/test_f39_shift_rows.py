"""f39: the gbm's training rows whose target crosses a later-detected level shift are left out.

A row (series, origin, h) is left out of a fit when a shift onset located by the fit's cutoff
lies in (origin, origin + h]. Detections made before the seasonal index exists (a series' first
year and a half) do not count, nor those whose split lies at the edge of the detector's range
(the onset is not located there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.config import FREQ_SPECS, ForecastConfig
from ml.features import FeatureContext, level_shifts
from ml.models import fit_gbm, predict_gbm
from ml.panel import Panel
from ml.shift_rows import ShiftRows

WEEKLY = FREQ_SPECS["weekly"]  # shift_max 12


def _rows(onset_at: dict[int, int], n: int = 60) -> ShiftRows:
    """One series: each period in ``onset_at`` detects the shift starting at its value."""
    onset = np.full((1, n), -1)
    for at, start in onset_at.items():
        onset[0, at] = start
    return ShiftRows(onset, WEEKLY)


def _kept(rows: ShiftRows, cutoff: int, origins: np.ndarray, h: int) -> np.ndarray:
    counts = rows.cutoff(cutoff)
    return rows.keep(counts, np.zeros(len(origins), dtype=int), origins, h)


def test_rows_whose_target_crosses_an_onset_are_left_out() -> None:
    # Onset at 40 (first post-shift period), found at 42 and again at 43.
    rows = _rows({42: 40, 43: 40})
    origins = np.arange(20, 58)
    kept = dict(zip(origins.tolist(), _kept(rows, 59, origins, 4).tolist(), strict=True))
    # Targets in (o, o + 4] past the onset: origins 36-39. Every other origin is kept.
    assert [o for o in origins.tolist() if not kept[o]] == [36, 37, 38, 39]
    assert _kept(rows, 59, np.array([39]), 1).tolist() == [False]
    assert _kept(rows, 59, np.array([38]), 1).tolist() == [True]


def test_an_onset_at_the_edge_of_the_detectors_range_is_not_located() -> None:
    # At 55 the best split keeps the last 12 = shift_max periods: onset 44 is only an edge.
    rows = _rows({42: 40, 55: 44})
    origins = np.arange(30, 50)
    dropped = origins[~_kept(rows, 59, origins, 4)].tolist()
    assert dropped == [36, 37, 38, 39], "only the located onset (40) leaves rows out"
    assert not _kept(_rows({53: 44}), 59, origins, 4)[10:14].any(), "split 10 < 12: located"


def test_onsets_found_after_the_cutoff_do_not_count() -> None:
    rows = _rows({45: 40})
    origins = np.arange(30, 40)
    assert not _kept(rows, 45, origins, 4)[-4:].any()
    assert _kept(rows, 44, origins, 4).all(), "the fit at 44 cannot know of a shift found at 45"


def _panel(y: np.ndarray) -> Panel:
    periods = pd.date_range("2015-01-05", periods=y.shape[1], freq="W-MON")
    keys = pd.DataFrame({"geo_level": ["city"] + ["area"] * (len(y) - 1)})
    keys["geo"] = ["City"] + [f"A{i}" for i in range(1, len(y))]
    return Panel(freq="weekly", keys=keys, periods=periods, y=y)


def _seasonal_panel(shift_at: int | None, n: int = 300, seed: int = 7) -> Panel:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 1 + 0.25 * np.sin(2 * np.pi * t / 52)
    mu = np.stack([200 * season, 80 * season, 120 * season])
    if shift_at is not None:
        mu[:, shift_at:] *= 0.6
    y = rng.poisson(mu).astype(float)
    y[0] = y[1:].sum(axis=0)
    return _panel(y)


def test_the_detector_reports_the_onset_and_skips_unseasoned_windows() -> None:
    panel = _seasonal_panel(shift_at=250)
    _, shifted, onset, seasoned = level_shifts(panel.y, WEEKLY, ForecastConfig())
    found = np.flatnonzero(shifted[0] & seasoned[0])
    assert found.min() >= 250 and abs(onset[0, found.min()] - 250) <= 1, onset[0, found]
    assert (onset[0, found] >= 249).all(), "every re-detection lies at or after the shift"
    # The seasonal index needs 1.5 years (78 weeks), the search window 28 weeks of it.
    assert not seasoned[:, :78].any() and seasoned[:, 78 + 28 :].all()


class _KeepAll:
    """The old fit: every row kept."""

    def cutoff(self, cutoff: int) -> None:
        return None

    def keep(self, counts: None, s: np.ndarray, o: np.ndarray, h: int) -> np.ndarray:
        return np.ones(len(s), dtype=bool)


def _gbm(ctx: FeatureContext, origin: int) -> np.ndarray:
    config = ForecastConfig()
    return predict_gbm(fit_gbm(ctx, origin, 12, config), ctx, origin, 12)


def test_the_fit_leaves_rows_out_only_when_a_seasoned_shift_was_found() -> None:
    config = ForecastConfig()
    flat = FeatureContext(_seasonal_panel(None), config, 12)
    step = FeatureContext(_seasonal_panel(250), config, 12)
    origin = 299
    assert flat.shift_rows.cutoff(origin)[:, -1].sum() == 0, "a stationary season: no shift"
    assert step.shift_rows.cutoff(origin)[0, -1] >= 1, "the city's shift is found"
    flat_new, step_new = _gbm(flat, origin), _gbm(step, origin)
    flat.shift_rows = step.shift_rows = _KeepAll()
    np.testing.assert_array_equal(_gbm(flat, origin), flat_new)
    assert not np.allclose(_gbm(step, origin), step_new), "the step's fit left rows out"
