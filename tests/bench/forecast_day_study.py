"""How far four extreme days pull the daily gbm's forecast of the same days a year later (f35).

f34 found the weekly gbm learning a week of the year from one extreme week (the ISO week number,
one free value a week). Daily rows carried ``day_of_year_4`` (one free value per four days) and
the raw day a year back (``year1_raw``): the same construction. This study prints, on synthetic
daily panels (six areas and their city, six years, ±25 % yearly season, weekday shares, mild
overdispersion, fixed seeds):
- the share of a 60 % dip on four days of 2021 (one ``day_of_year_4`` bin, 9-12 March) that
  reaches the gbm's forecast of 9-12 March 2022 from 2022-02-28 (same draws with and without the
  dip; 0 = ignored, 1 = repeated);
- the gbm's MAE at h = 1-28 of the clean panels against the generator's expected counts, so a
  change that ignores the dip by losing the season shows here.

Usage: ``python -m tests.bench.forecast_day_study [--seeds 6]``. Run it in two worktrees to
compare engines (it reads only ``ml.features.FeatureContext`` and the gbm of ``ml.models``).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from ml.panel import Panel
from tests.bench.forecast_week_study import gbm_path

DIP = 0.4  # the extreme days keep 40 % of their counts
EXTREME = pd.date_range("2021-03-09", periods=4)  # day of year 68-71: one day_of_year_4 bin
TARGET = EXTREME + pd.DateOffset(years=1)
ORIGIN = pd.Timestamp("2022-02-28")
WEEKDAY = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.05, 0.95])


def expected_counts(seed: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Days 2016-01-01 to 28 days after ``ORIGIN`` and the areas' expected counts."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2016-01-01", ORIGIN + pd.Timedelta(days=28), freq="D")
    season = 1 + 0.25 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 100) / 365.25)
    rates = rng.uniform(2, 8, size=6)
    return days, rates[:, None] * (season * WEEKDAY[days.day_of_week])[None, :]


def daily_panel(seed: int, dip: float = 1.0) -> tuple[Panel, np.ndarray]:
    """The panel up to ``ORIGIN`` with ``EXTREME`` scaled by ``dip``; the city's expected
    counts of the 28 days after it."""
    days, lam = expected_counts(seed)
    rng = np.random.default_rng(seed + 1000)
    y = rng.poisson(lam * rng.gamma(50, 1 / 50, size=lam.shape)).astype(float)
    hit = days.isin(EXTREME)
    y[:, hit] = np.round(y[:, hit] * dip)
    end = int(days.get_loc(ORIGIN)) + 1
    keys = pd.DataFrame(
        {"geo_level": ["city"] + ["area"] * 6, "geo": ["C"] + [f"A{i}" for i in range(6)]}
    )
    panel = Panel("daily", keys, days[:end], np.vstack([y.sum(axis=0), y])[:, :end])
    return panel, lam.sum(axis=0)[end:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args()
    hs = np.array([(d - ORIGIN).days for d in TARGET])
    pulls, maes = [], []
    for seed in range(args.seeds):
        panel, truth = daily_panel(seed)
        origin = panel.n_periods - 1
        clean = gbm_path(panel, origin, 28)
        dipped = gbm_path(daily_panel(seed, DIP)[0], origin, 28)
        pulls.append(((1 - dipped[:, hs - 1] / clean[:, hs - 1]) / (1 - DIP)).mean(axis=1))
        maes.append(np.abs(clean[0] - truth).mean())
    p = np.array(pulls)
    print(f"share of a {1 - DIP:.0%} four-day dip in next year's gbm forecast of the same days")
    print(f"  city per seed: {np.round(p[:, 0], 3)}; mean {p[:, 0].mean():.3f}")
    print(f"  every series: mean {p.mean():.3f}, max {p.max():.3f}")
    print(f"clean panels, city h=1-28 MAE vs expected counts: {np.round(maes, 2)}")
    print(f"  mean {np.mean(maes):.3f}")


if __name__ == "__main__":
    main()
