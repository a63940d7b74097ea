"""Interval calibration variants judged on Blotter's own backtests (never the hold-out).

For every data set x freq x origin of ``make bench-forecast``, the bench history is cut at the
bench origin and its year-ahead backtest is taken from ``tests.bench.forecast_study``'s cache.
Nested leave-one-origin-out: each backtest origin in turn gets the served forecast selected on
the other origins (reconciled as the engine serves it), and intervals calibrated on the other
origins' served forecasts. Per variant of ``ml.intervals.SPARSE_MEAN`` (0 = no volume split,
the rule before f25) it prints: level x bucket cells with 80 % coverage in 70-90 %, mean
|coverage - 80 %|, cells closer to / farther from 80 % than the reference, the 80 % interval
score (width + 10 x the miss distance; lower is better) as a geometric-mean ratio and cells
better / worse, and the coverage by forecast volume.

Usage: ``python -m tests.bench.forecast_interval_study [--cache DIR] [--only replay,chicago]
[--variants 0,1]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import ml.intervals as iv
from ml.selection import select
from tests.bench.forecast_study import backtests, reconciled, served

REFERENCE = "0"
VOLUMES = [-1, 0.25, 0.5, 1, 2, 5, 20, np.inf]


def _served(frame: pd.DataFrame, selection: dict) -> np.ndarray:
    pred = np.full(len(frame), np.nan)
    for origin in np.unique(frame["origin"]):
        mask = (frame["origin"] == origin).to_numpy()
        part = frame[mask].reset_index(drop=True)
        pred[mask] = reconciled(part, served(selection, part))
    return pred


def nested(name: str, blob: dict, variants: list[str]) -> list[pd.DataFrame]:
    """Per held-out origin: its rows with each variant's in_80 / in_95 / interval score."""
    frame, out = blob["frame"], []
    for origin in np.unique(frame["origin"]) if not frame.empty else []:
        rest = frame["origin"] != origin
        selection = select(frame[rest], blob["levels"], blob["shifted"])
        scored = frame.assign(yhat=_served(frame, selection))
        held = scored[~rest]
        y = held["y"].to_numpy()
        rows = held[["geo_level", "bucket", "y", "yhat"]].assign(case=name)
        for variant in variants:
            iv.SPARSE_MEAN = float(variant)
            b = iv.apply_rows(
                held["yhat"].to_numpy(),
                held["geo_level"].to_numpy(),
                held["bucket"].to_numpy(),
                iv.calibrate_buckets(scored[rest]),
            )
            lo, hi = b["yhat_lower_80"].to_numpy(), b["yhat_upper_80"].to_numpy()
            rows[f"in80_{variant}"] = (y >= lo) & (y <= hi)
            in95 = (y >= b["yhat_lower_95"].to_numpy()) & (y <= b["yhat_upper_95"].to_numpy())
            rows[f"in95_{variant}"] = in95
            miss = np.clip(lo - y, 0, None) + np.clip(y - hi, 0, None)
            rows[f"is80_{variant}"] = hi - lo + 10 * miss
        out.append(rows)
    return out


def report(rows: pd.DataFrame, variants: list[str]) -> None:
    """Print one line per variant and the coverage by forecast volume."""
    cells = rows.groupby(["case", "geo_level", "bucket"])
    cov = cells[[f"in80_{v}" for v in variants]].mean()
    score = cells[[f"is80_{v}" for v in variants]].mean()
    ref_dev = (cov[f"in80_{REFERENCE}"] - 0.8).abs()
    for v in variants:
        c, dev = cov[f"in80_{v}"], (cov[f"in80_{v}"] - 0.8).abs()
        ratio = score[f"is80_{v}"] / score[f"is80_{REFERENCE}"]
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        print(
            f"SPARSE_MEAN {v:>4}: 80 % coverage {rows[f'in80_{v}'].mean():.3f} (95 %: "
            f"{rows[f'in95_{v}'].mean():.3f}); cells in 70-90 % {c.between(0.7, 0.9).sum()} of "
            f"{len(c)}, mean |cov - 80 %| {dev.mean():.4f}, closer {(dev < ref_dev - 1e-9).sum()}"
            f" / farther {(dev > ref_dev + 1e-9).sum()}; interval score "
            f"{np.exp(np.log(ratio).mean()):.4f} (better {(ratio < 0.999).sum()} / worse "
            f"{(ratio > 1.001).sum()})"
        )
    volume = pd.cut(rows["yhat"], VOLUMES)
    table = rows.groupby(volume, observed=True)[[f"in80_{v}" for v in variants]].mean()
    print("80 % coverage by forecast volume:")
    print(table.assign(n=rows.groupby(volume, observed=True).size()).round(3).to_string())


def main(argv: list[str] | None = None) -> int:
    """Run the study on the cached backtests."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_interval_study")
    parser.add_argument("--cache", type=Path, default=Path("data/forecast_study"))
    parser.add_argument("--only", default="replay,chicago,stress")
    parser.add_argument("--variants", default="0,0.5,1,2")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if REFERENCE not in variants:
        variants.insert(0, REFERENCE)
    default = iv.SPARSE_MEAN
    try:
        parts = [
            p for name, blob in backtests(only, args.cache) for p in nested(name, blob, variants)
        ]
    finally:
        iv.SPARSE_MEAN = default
    report(pd.concat(parts, ignore_index=True), variants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
