"""Issue 14, long-range structure: a yearly seasonal shape counts as much as the years agree.

The season-trend path (and the gbm's feature of it) pools the yearly index over five years.
Pooling alone keeps a shape that comes and goes (Chicago's summer: some years dip, some rise)
at a fifth of its size in every forecast; the index now fades towards flat by the years'
disagreement and keeps a shape that every year repeats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.config import ForecastConfig
from ml.features import FeatureContext
from ml.panel import Panel

AMPLITUDE = 0.3
YEARS = 7


def city_panel(signs: list[int]) -> Panel:
    """Weekly city of 1000 incidents a week whose year ``k`` carries ``signs[k]`` x a sine
    of the week of the year (exact counts: no noise, so only the shape's consistency varies)."""
    weeks = np.arange(52 * len(signs))
    sign = np.repeat(signs, 52)
    y = 1000.0 * (1 + AMPLITUDE * sign * np.sin(2 * np.pi * (weeks % 52) / 52))
    periods = pd.date_range("2016-01-04", periods=len(weeks), freq="7D")
    keys = pd.DataFrame({"geo_level": ["city"], "geo": ["City"]})
    return Panel("weekly", keys, periods, y[None, :])


def year_ahead_index(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """The yearly index of the 52 weeks after the last one, and the sine it would repeat."""
    ctx = FeatureContext(panel, ForecastConfig(peers={}), 52)
    origin = panel.n_periods - 1
    t = origin + np.arange(1, 53)
    index = ctx.st.index(np.zeros(52, dtype=int), t, np.full(52, origin))
    return index, np.sin(2 * np.pi * (t % 52) / 52)


def test_a_shape_every_year_repeats_is_kept() -> None:
    index, sine = year_ahead_index(city_panel([1] * YEARS))
    slope = np.polyfit(sine, index - 1, 1)[0]
    assert slope > 0.9 * AMPLITUDE  # (a 5-week window's mean of a sine is ~0.98 of it)
    assert np.corrcoef(sine, index)[0, 1] > 0.99


def test_a_shape_the_years_disagree_on_fades_towards_flat() -> None:
    # The last five years: +, +, -, -, +. Pooled, they keep a fifth of the shape (mean
    # |index - 1| ~ 0.2 * 0.3 * 2/pi = 0.038), though the years spread by the whole amplitude.
    index, sine = year_ahead_index(city_panel([1, 1, 1, 1, -1, -1, 1]))
    assert np.mean(np.abs(index - 1)) < 0.02  # (under half the pooled 0.038)
    # It fades, it does not flip: what is left still leans the way the pooled years do.
    assert np.polyfit(sine, index - 1, 1)[0] >= 0


def test_the_index_table_is_the_windows_computation_at_every_lead() -> None:
    """``SeasonTrend.index`` gathers from one table per lead regime (forecast-file speed):
    the same numbers as summing the years' windows for that lead, on any (series, t, origin)."""
    panel = city_panel([1, -1, 1, 1, -1, 1, 1])
    ctx = FeatureContext(panel, ForecastConfig(peers={}), 52)
    rng = np.random.default_rng(0)
    o = rng.integers(0, panel.n_periods, 400)
    t = o + rng.integers(0, 53, 400)
    s = np.zeros(400, dtype=int)
    direct = np.array(
        [ctx.st.direct(s[i : i + 1], t[i : i + 1], t[i] - o[i])[0] for i in range(400)]
    )
    np.testing.assert_array_equal(ctx.st.index(s, t, o), direct)


def test_a_year_of_daily_horizons_stays_on_the_models_fast_binning_path() -> None:
    """More than 255 distinct values of a feature make HistGradientBoosting bin it by
    weighted percentiles (~1 s per fit): the horizon feature of 366 days keeps to 255."""
    from ml.features import horizon_feature

    values = {horizon_feature(h) for h in range(1, 367)}
    assert len(values) <= 255
    assert [horizon_feature(h) for h in (1, 7, 28, 144)] == [1, 7, 28, 144]  # exact near
    seen = [horizon_feature(h) for h in range(1, 367)]
    assert seen == sorted(seen) and seen[-1] >= 366  # ordered, and it reaches a year
