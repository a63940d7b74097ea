"""Where one `make bench-forecast` cell's loss comes from: errors per origin x series (f30).

For one data set x freq x level and the given buckets, prints per origin and series the
held-out mean, what served Blotter there, every method's MAE and Blotter's / the best peer's
mean forecast, then per origin the sums (a block's share of the cell's excess over the best
peer) and the city's shift flags (``ml.engine.recent_shift`` without and with the reconcile
groups). For a stress case, also every method's MAE against the generator's expected counts
(``forecast_data.stress_means``): the error without the Poisson-gamma noise, which decides
cells of a few points. Peers come from ``--peer-cache`` as in the benchmark; Blotter is
recomputed.

Usage: ``python -m tests.bench.forecast_loss_study CASE FREQ LEVEL BUCKETS --peer-cache DIR``,
e.g. ``"new geography" weekly area 1-7d`` (CASE: part of a data set's name; "Chicago" for the
homicides).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from ml.config import ForecastConfig
from ml.engine import recent_shift
from ml.features import FeatureContext
from ml.models import reconcile_groups
from ml.panel import build_panel
from tests.bench import forecast_data
from tests.bench.forecast_eval import METHODS, one_origin


def _case(name: str) -> forecast_data.Case:
    if "chicago" in name.lower():
        return forecast_data.chicago()
    return next(c for c in forecast_data.stress_cases() if name in c.name)


def _truth(case: forecast_data.Case, freq: str) -> np.ndarray | None:
    """The expected counts on the case's panel grid (series x periods), None for real data."""
    means = forecast_data.stress_means().get(case.name.removeprefix("stress: "))
    if means is None:
        return None
    days = forecast_data.STRESS_DAYS
    areas = pd.concat(
        [pd.DataFrame({"day": days, "geo": geo, "n": mu}) for geo, mu in means.items()]
    ).assign(geo_level="area")
    city = areas.groupby("day", as_index=False)["n"].sum().assign(geo_level="city", geo="City")
    daily = pd.concat([city, areas], ignore_index=True)
    truth = build_panel(forecast_data.to_mart(daily, (freq,)), freq)
    full = build_panel(case.counts, freq)
    assert truth.keys.equals(full.keys) and truth.periods.equals(full.periods)
    return truth.y


def _flags(case: forecast_data.Case, freq: str, origin) -> str:  # noqa: ANN001
    full = build_panel(case.counts, freq)
    idx = int(full.periods.get_loc(origin))
    hist = full.truncated(idx)
    horizon = forecast_data.YEAR[freq]
    ctx = FeatureContext(hist, ForecastConfig(horizons={freq: horizon}), horizon)
    old, new = recent_shift(ctx, idx), recent_shift(ctx, idx, reconcile_groups(ctx))
    return f"city shift: alone {old}, judged on the geographies that go on {new}"


def main(argv: list[str] | None = None) -> None:
    """Print the per-origin, per-series table of one cell."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_loss_study")
    parser.add_argument("case")
    parser.add_argument("freq")
    parser.add_argument("level")
    parser.add_argument("buckets", help="comma-separated, e.g. 1-3m,3-12m")
    parser.add_argument("--peer-cache", type=Path, required=True)
    args = parser.parse_args(argv)
    case, buckets = _case(args.case), args.buckets.split(",")
    truth, periods = _truth(case, args.freq), build_panel(case.counts, args.freq).periods
    vs_truth: dict[str, list[float]] = {}
    for origin in case.origins[args.freq]:
        frame, _ = one_origin(case, args.freq, origin, args.peer_cache)
        cell = frame[(frame["level"] == args.level) & frame["bucket"].isin(buckets)]
        if truth is not None:
            mu = truth[cell["series"], periods.get_loc(origin) + cell["h"]]
            for m in METHODS:
                vs_truth.setdefault(m, []).extend(np.abs(cell[f"{m}_mean"] - mu))
        totals: dict[str, float] = {}
        for (series, bucket), g in cell.groupby(["series", "bucket"]):
            maes = {
                m: float(np.abs(g["y"] - g[f"{m}_mean"]).mean())
                for m in METHODS
                if np.isfinite(g[f"{m}_mean"]).all()
            }
            for m, v in maes.items():
                totals[m] = totals.get(m, 0.0) + v * len(g)
            cells = " ".join(f"{m}={v:.2f}" for m, v in maes.items())
            print(
                f"{origin:%Y-%m-%d} s{series} {bucket} n={len(g)} y={g['y'].mean():.2f} "
                f"served={g['served'].iloc[0]} {cells} | blotter mean "
                f"{g['blotter_mean'].mean():.2f}"
            )
        peers = {m: v for m, v in totals.items() if m != "blotter"}
        best = min(peers, key=peers.get) if peers else None
        sums = " ".join(f"{m}={v:.1f}" for m, v in totals.items())
        excess = f"; Blotter - {best} = {totals['blotter'] - peers[best]:+.1f}" if best else ""
        print(f"{origin:%Y-%m-%d} sums of |error|: {sums}{excess}")
        print(f"{origin:%Y-%m-%d} {_flags(case, args.freq, origin)}")
    if vs_truth:
        maes = " ".join(
            f"{m}={np.mean(v):.2f}" for m, v in vs_truth.items() if np.isfinite(v).all()
        )
        print(f"MAE against the expected counts, all origins: {maes}")


if __name__ == "__main__":
    main()
