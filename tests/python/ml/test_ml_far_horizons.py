"""Issue 14, far horizons: what a year-ahead path repeats at every step must not be noise.

The season-trend path carried the last 8 weeks' level flat (their noise and any transient
swing, repeated a year; Prophet's whole-history trend does not): ``ml.anchor`` fades the
recent level's gap to the trailing year's mean with the lead, except after a level shift.
Its daily weekday factors came from 8 weeks (8 days per weekday): ``ml.weekday`` takes a
year of weeks by default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.config import ForecastConfig
from ml.features import FeatureContext
from ml.models import season_trend
from ml.panel import Panel
from ml.weekday import stride_sums, weekday_factors


def weekly_city(y: np.ndarray) -> Panel:
    periods = pd.date_range("2018-01-01", periods=len(y), freq="7D")
    keys = pd.DataFrame({"geo_level": ["city"], "geo": ["City"]})
    return Panel("weekly", keys, periods, np.asarray(y, dtype=float)[None, :])


def year_ahead(panel: Panel, memory: float, origin: int | None = None) -> np.ndarray:
    ctx = FeatureContext(panel, ForecastConfig(peers={}, level_memory=memory), 52)
    return season_trend(ctx, panel.n_periods - 1 if origin is None else origin, 52)[0]


def test_a_transient_bump_fades_with_the_lead() -> None:
    # Flat 1000 a week for four years, then 8 weeks at 1100 (+10 %: no level shift).
    y = np.r_[np.full(4 * 52, 1000.0), np.full(8, 1100.0)]
    kept = year_ahead(weekly_city(y), 0.0)
    fading = year_ahead(weekly_city(y), 0.5)
    assert abs(np.median(kept) - 1100) < 5  # off: the bump is carried a whole year
    assert abs(fading[0] - 1100) < 5  # near: where the series is
    # 52 weeks out, 3/4 of the log gap to the year's mean (1015) is closed: ~1036.
    assert 1020 < fading[-1] < 1050
    assert np.all(np.diff(fading / kept) <= 1e-12)  # the season kept, the gap fading


def test_no_reversion_after_a_level_shift_within_the_year() -> None:
    # A -40 % step 10 weeks before the end: the year's mean straddles it, so it is no anchor.
    y = np.r_[np.full(4 * 52, 1000.0), np.full(10, 600.0)]
    np.testing.assert_array_equal(year_ahead(weekly_city(y), 0.5), year_ahead(weekly_city(y), 0))
    assert abs(year_ahead(weekly_city(y), 0.5)[0] - 600) < 5  # the new level


def test_the_anchor_reads_nothing_after_the_origin() -> None:
    rng = np.random.default_rng(3)
    weeks = np.arange(6 * 52)
    y = rng.poisson(400 * (1 + 0.2 * np.sin(2 * np.pi * weeks / 52)) * (1 - 0.0015 * weeks))
    origin = 5 * 52 - 7
    full = year_ahead(weekly_city(y), 0.5, origin)
    cut = year_ahead(weekly_city(y[: origin + 1]), 0.5)
    np.testing.assert_allclose(full, cut, rtol=1e-12)
    assert not np.allclose(full, year_ahead(weekly_city(y), 0.0, origin))  # it did act


def test_stride_sums_are_the_sums_of_the_same_weekday() -> None:
    a = np.random.default_rng(0).poisson(3.0, (3, 60)).astype(float)
    naive = np.zeros_like(a)
    for w in range(4):
        naive[:, 7 * w :] += a[:, : 60 - 7 * w]
    np.testing.assert_array_equal(stride_sums(a, 4), naive)
    short = a[:, :3]  # shorter than a week: factors exist (1), no error
    assert np.all(weekday_factors(short, np.zeros(3, dtype=int), np.arange(3), 52, 100.0) == 1)


def test_a_year_of_weeks_gives_steadier_weekday_factors() -> None:
    # A district of ~10 a day with a fixed weekly shape: 8 weeks' factors err ~2.5x more.
    rng = np.random.default_rng(5)
    shape = np.array([1.2, 1.0, 0.9, 0.9, 1.0, 1.1, 0.9])
    days = 3 * 364
    dows = np.arange(days) % 7
    y = rng.poisson(10.0 * shape[dows])[None, :].astype(float)
    errors = {}
    for weeks in (8, 52):
        f = weekday_factors(y, np.zeros(1, dtype=int), dows, weeks, shrink=100.0)
        late = slice(364, days)  # a full year of weeks behind every origin
        errors[weeks] = np.mean([np.abs(f[d, 0, late] - shape[d]).mean() for d in range(7)])
    assert errors[52] < 0.6 * errors[8]
    assert ForecastConfig().weekday_weeks == 52
