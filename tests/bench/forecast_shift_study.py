"""How often the engine's level-shift detector fires, and on what (issue 14, f33).

A flagged series loses its pooled level (``ml.pooled_level``), its share window, its trend and
its far-lead anchor, so a false shift costs accuracy for up to two years. This study prints:
- on stationary synthetic Poisson series (a ±25 % yearly season, daily also a weekday shape;
  four years, fixed seeds), the share of series flagged at some period of the last year, at
  the last period, and per series and origin; and the share of series with a true step
  (periods back, factor) detected at the last period;
- per bench data set, frequency and origin (``make bench-forecast``'s), how many lower-level
  series were flagged within the two years up to the origin and at it, and the city's flag
  (``C`` at the origin, ``c`` within the two years).

Usage: ``python -m tests.bench.forecast_shift_study [--seeds 60] [--skip-bench]``. Run it in
two worktrees to compare detectors (it reads only ``ml.features.shifted_level``).
"""

from __future__ import annotations

import argparse

import numpy as np

from ml.config import FREQ_SPECS, ForecastConfig
from ml.features import shifted_level
from ml.panel import build_panel
from tests.bench import forecast_data

YEARS = 4
SPARSE_WEEKLY = [0.3, 0.5, 0.7, 0.9, 1.2, 1.5, 2.0, 0.4, 0.6, 0.8, 1.0, 1.4]
# (freq, rates, gamma dispersion of the rate: variance mu + d mu^2)
STATIONARY = [
    ("weekly", SPARSE_WEEKLY, 0.0),
    ("weekly", [5, 10, 20], 0.0),
    ("weekly", [100, 1000], 0.0),
    ("weekly", [100, 1000], 0.01),
    ("daily", [0.3, 1, 3], 0.0),
    ("daily", [30, 300], 0.0),
    ("daily", [300], 0.02),
    ("monthly", [2, 5, 10], 0.0),
    ("monthly", [50, 500], 0.0),
    ("monthly", [500], 0.005),
]
# (freq, rates, (periods back, factor))
STEPS = [
    ("weekly", [1000], (6, 0.55)),
    ("weekly", [50], (8, 0.6)),
    ("weekly", [10], (8, 0.6)),
    ("weekly", SPARSE_WEEKLY, (12, 0.4)),
    ("daily", [300], (42, 0.55)),
    ("daily", [30], (42, 0.6)),
    ("daily", [3], (42, 0.6)),
    ("monthly", [500], (6, 0.6)),
    ("monthly", [50], (6, 0.6)),
    ("monthly", [10], (6, 0.6)),
]


def _season(freq: str, n: int) -> np.ndarray:
    t = np.arange(n)
    season = 1 + 0.25 * np.sin(2 * np.pi * t / FREQ_SPECS[freq].year)
    if freq == "daily":
        season = season * np.array([1.1, 0.95, 0.95, 0.95, 1.0, 1.05, 1.0])[t % 7]
    return season


def flag_rates(
    freq: str, rates: list[float], seeds: int, dispersion: float = 0.0, step=None
) -> tuple[float, float, float]:
    """(flagged in the last year, flagged at the last period, per series and origin)."""
    spec = FREQ_SPECS[freq]
    n = YEARS * spec.year
    year, last, per_origin = [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        mu = np.asarray(rates, dtype=float)[:, None] * _season(freq, n)[None, :]
        if step is not None:
            mu[:, n - step[0] :] *= step[1]
        if dispersion > 0:
            mu = mu * rng.gamma(1 / dispersion, dispersion, size=mu.shape)
        _, shifted = shifted_level(rng.poisson(mu).astype(float), spec, ForecastConfig())
        year.append(shifted[:, n - spec.year :].any(axis=1))
        last.append(shifted[:, -1])
        per_origin.append(shifted[:, n - spec.year :].mean(axis=1))
    return tuple(float(np.concatenate(v).mean()) for v in (year, last, per_origin))  # type: ignore[return-value]


def bench_flags() -> None:
    """Flags per bench data set x freq x origin."""
    cases = [forecast_data.replay_city(), *forecast_data.stress_cases()]
    if forecast_data.exists():
        cases.insert(1, forecast_data.chicago())
    for case in cases:
        for freq, origins in case.origins.items():
            full = build_panel(case.counts, freq)
            spec = FREQ_SPECS[freq]
            cells = []
            for origin in origins:
                idx = int(full.periods.get_loc(origin))
                _, shifted = shifted_level(full.truncated(idx).y, spec, ForecastConfig())
                within = shifted[:, max(0, idx + 1 - 2 * spec.year) : idx + 1].any(axis=1)
                city = "C" if shifted[0, idx] else ("c" if within[0] else "-")
                cells.append(
                    f"{origin:%Y-%m}: {within[1:].sum()}/{len(within) - 1} in 2 y, "
                    f"{shifted[1:, idx].sum()} at origin, city {city}"
                )
            print(f"{case.name:28s} {freq:8s} " + " | ".join(cells))


def main(argv: list[str] | None = None) -> None:
    """Print the synthetic rates, then the bench origins' flags."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_shift_study")
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--skip-bench", action="store_true")
    args = parser.parse_args(argv)
    print("stationary: flagged in the last year / at the last period / per series and origin")
    for freq, rates, dispersion in STATIONARY:
        a, b, c = flag_rates(freq, rates, args.seeds, dispersion)
        print(f"  {freq:8s} rates {rates} dispersion {dispersion}: {a:.3f} / {b:.3f} / {c:.4f}")
    print("true steps: detected at the last period")
    for freq, rates, step in STEPS:
        _, b, _ = flag_rates(freq, rates, args.seeds, step=step)
        print(f"  {freq:8s} rates {rates} step {step}: {b:.3f}")
    if not args.skip_bench:
        bench_flags()


if __name__ == "__main__":
    main()
