"""How far one extreme week pulls the weekly gbm's forecast of the same week a year later (f34).

f30 found the weekly gbm's week 1 set by one extreme week a year before (the "new geography"
stress case's 2021-01-04); f33 found that week deciding thin weekly cells. This study prints:
- on synthetic weekly panels (six areas and their city, six years, ±25 % yearly season, fixed
  seeds), the share of a 60 % dip in ISO week 1 of 2021 that reaches the gbm's week-1 forecast
  at 2021-12-27 (same draws with and without the dip; 0 = ignored, 1 = repeated);
- per weekly stress case and origin, the gbm's city forecast at h = 1-4 against the
  generator's expected counts (``forecast_data.stress_means``).

Usage: ``python -m tests.bench.forecast_week_study [--seeds 8]``. Run it in two worktrees to
compare engines (it reads only ``ml.features.FeatureContext`` and the gbm of ``ml.models``).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from ml.config import ForecastConfig
from ml.features import FeatureContext
from ml.models import fit_gbm, predict_gbm
from ml.panel import Panel, build_panel
from tests.bench import forecast_data
from tests.bench.forecast_loss_study import _truth

DIP = 0.4  # the extreme week keeps 40 % of its counts
EXTREME = pd.Timestamp("2021-01-04")


def weekly_panel(seed: int, dip: float = 1.0, amplitude: float = 0.25) -> Panel:
    """Six areas (4-15 a week, mild overdispersion) and their city, 2016-2021, with a yearly
    season of ``amplitude`` and ISO week 1 of 2021 scaled by ``dip`` (also the f34 tests')."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2016-01-04", "2021-12-27", freq="W-MON")
    season = 1 + amplitude * np.sin(2 * np.pi * (periods.day_of_year.to_numpy() - 100) / 365.25)
    rates = rng.uniform(4, 15, size=6)
    lam = rates[:, None] * season[None, :] * rng.gamma(50, 1 / 50, size=(6, len(periods)))
    y = rng.poisson(lam).astype(float)
    j = periods.get_loc(EXTREME)
    y[:, j] = np.round(y[:, j] * dip)
    keys = pd.DataFrame(
        {"geo_level": ["city"] + ["area"] * 6, "geo": ["C"] + [f"A{i}" for i in range(6)]}
    )
    return Panel("weekly", keys, periods, np.vstack([y.sum(axis=0), y]))


def gbm_path(panel: Panel, origin: int, horizon: int) -> np.ndarray:
    """The gbm's forecasts (series x h) from ``origin``, fitted on data up to it."""
    config = ForecastConfig()
    ctx = FeatureContext(panel.truncated(origin), config, horizon)
    model = fit_gbm(ctx, origin, horizon, config)
    return predict_gbm(model, ctx, origin, horizon)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    pulls = []
    for seed in range(args.seeds):
        origin = weekly_panel(seed).n_periods - 1
        clean = gbm_path(weekly_panel(seed), origin, 13)[:, 0]
        dipped = gbm_path(weekly_panel(seed, DIP), origin, 13)[:, 0]
        pulls.append((1 - dipped / clean) / (1 - DIP))
    p = np.array(pulls)
    print(f"share of a {1 - DIP:.0%} week-1 dip in next year's week-1 gbm forecast")
    print(f"  city per seed: {np.round(p[:, 0], 3)}; mean {p[:, 0].mean():.3f}")
    print(f"  every series: mean {p.mean():.3f}, max {p.max():.3f}")
    print("weekly stress cases: the gbm's city forecast h=1-4 | expected counts")
    for case in forecast_data.stress_cases():
        full = build_panel(case.counts, "weekly")
        truth = _truth(case, "weekly")
        for when in case.origins["weekly"]:
            idx = int(full.periods.get_loc(when))
            path = gbm_path(full, idx, 4)[0]
            expected = np.round(truth[0, idx + 1 : idx + 5], 1)
            print(f"  {case.name[:28]:28s} {when.date()} {np.round(path, 1)} | {expected}")


if __name__ == "__main__":
    main()
