"""A city's level shift hands every cell to the gbm only when the geographies that go on shifted.

Issue 14, f30: the stress cases' stopped geography (monthly, 2023-12) and new one (monthly,
2022-12) moved the city's total, so ``recent_shift`` served the gbm at every level and bucket,
although the other geographies' backtests still held (area 3-12 m: gbm 1.3x AutoETS there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.config import ForecastConfig
from ml.engine import recent_shift
from ml.features import FeatureContext
from ml.models import reconcile_groups
from ml.panel import Panel, build_panel
from tests.bench import forecast_data

MUS = (50.0, 75.0, 100.0, 75.0)
PERIODS = 96


def _panel(change: str, seed: int = 0) -> Panel:
    """City + 4 areas, 8 years of months; the last 6 months carry ``change``."""
    rng = np.random.default_rng(seed)
    t = np.arange(PERIODS)
    season = 1 + 0.2 * np.sin(2 * np.pi * t / 12)
    after = (t >= PERIODS - 6).astype(float)
    mu = np.array([m * season for m in MUS])
    if change == "stop":  # the last area ends
        mu[3] *= 1 - after
    elif change == "all":  # every area drops 40 %
        mu *= 1 - 0.4 * after
    elif change == "new":  # the last area begins 6 months before the end
        mu[3] *= after
    y = rng.poisson(mu).astype(float)
    if change == "new":
        y[3, : PERIODS - 6] = np.nan
    keys = pd.DataFrame({"geo_level": ["city"] + ["area"] * 4, "geo": ["City", *"ABCD"]})
    city = np.nansum(y, axis=0)[None, :]
    periods = pd.date_range("2017-01-01", periods=PERIODS, freq="MS")
    return Panel("monthly", keys, periods, np.vstack([city, y]))


def _flags(panel: Panel) -> tuple[bool, bool, bool]:
    """(city shifted, old rule, new rule) at the last period."""
    ctx = FeatureContext(panel, ForecastConfig(horizons={"monthly": 12}), 12)
    origin = panel.n_periods - 1
    groups = reconcile_groups(ctx)
    assert len(groups) == 1 and len(groups[0]) == 4
    city_shifted = bool(ctx.shifted[0, origin])
    return city_shifted, recent_shift(ctx, origin), recent_shift(ctx, origin, groups)


@pytest.mark.parametrize("change", ["stop", "new"])
def test_a_geography_that_ends_or_begins_is_not_a_shift_of_the_others(change: str) -> None:
    city_shifted, old, new = _flags(_panel(change))
    assert city_shifted, "the city's total moved: its level is re-based"
    assert old, "without groups the city's flag decides, as before"
    assert not new, f"{change}: the other areas did not shift"


def test_a_shift_of_every_geography_still_hands_the_cells_to_the_gbm() -> None:
    city_shifted, old, new = _flags(_panel("all"))
    assert city_shifted and old and new


def test_no_city_shift_stays_no_shift() -> None:
    assert _flags(_panel("none")) == (False, False, False)


def test_the_bench_stress_cases_at_their_origins() -> None:
    """Where the rule changes the benchmark (the only bench origins whose city is shifted)."""
    cases = {c.name: c for c in forecast_data.stress_cases()}
    expected = {
        ("stress: level shift -40 %", "weekly", "2023-12-25"): True,
        ("stress: level shift -40 %", "monthly", "2023-12-01"): True,
        ("stress: new geography", "monthly", "2022-12-01"): False,
        ("stress: geography stops", "monthly", "2023-12-01"): False,
    }
    for (name, freq, day), want in expected.items():
        full = build_panel(cases[name].counts, freq)
        idx = int(full.periods.get_loc(pd.Timestamp(day)))
        hist = full.truncated(idx)
        horizon = forecast_data.YEAR[freq]
        ctx = FeatureContext(hist, ForecastConfig(horizons={freq: horizon}), horizon)
        assert ctx.shifted[0, idx], (name, freq, day)
        assert recent_shift(ctx, idx, reconcile_groups(ctx)) is want, (name, freq, day)
