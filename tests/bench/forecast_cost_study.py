"""Cheaper gradient-boosting settings judged on Blotter's own backtests (never the hold-out).

For every data set x freq x origin of ``make bench-forecast``, the history is cut at the bench
origin and the year-ahead backtest (3 full + 12 short-lead origins) is run once per variant of
``ForecastConfig`` (cached in ``--cache``), timing its CPU seconds. Per variant it prints:
- the gbm's own backtest MAE per data set x level x bucket against the reference variant's
  (cells better / worse, geometric-mean ratio);
- the served forecast's MAE by nested leave-one-origin-out (each backtest origin forecast by
  the selection made on the other origins, as ``tests.bench.forecast_study``), likewise;
- the backtests' total CPU seconds.

Usage: ``python -m tests.bench.forecast_cost_study [--cache DIR] [--only replay,chicago,stress]
[--variants base,lr0.2x50]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ml.backtest import run_backtest
from ml.config import ForecastConfig
from ml.engine import recent_shift
from ml.features import FeatureContext
from ml.models import reconcile_groups
from ml.panel import build_panel
from ml.peers import peer_rows
from ml.selection import select
from tests.bench import forecast_data
from tests.bench.forecast_data import YEAR
from tests.bench.forecast_study import reconciled, served

MONTHLY_PEERS = {"monthly": ("auto_ets", "auto_theta")}
# Variants of the gbm's settings (changes to the default ForecastConfig); "base" = before f19.
VARIANTS: dict[str, dict[str, object]] = {
    "base": {"learning_rate": 0.1, "max_iter": 100, "max_train_rows": 60_000},
    "lr0.2x50": {"learning_rate": 0.2, "max_iter": 50, "max_train_rows": 60_000},
    "lr0.2x50-30k": {"learning_rate": 0.2, "max_iter": 50, "max_train_rows": 30_000},
    "lr0.3x34": {"learning_rate": 0.3, "max_iter": 34, "max_train_rows": 60_000},
    "current": {},  # the default ForecastConfig
    "mem0.125": {"level_memory": 0.125},
    "mem0.25": {"level_memory": 0.25},  # ml.anchor: far leads revert to the year's level
    "mem0.5": {"level_memory": 0.5},
    "mem1": {"level_memory": 1.0},
    "wd26": {"weekday_weeks": 26},  # ml.weekday: weekday shares over more weeks
    "wd52": {"weekday_weeks": 52},
    "mem0.25+wd52": {"level_memory": 0.25, "weekday_weeks": 52},
    "mem0.125+wd52": {"level_memory": 0.125, "weekday_weeks": 52},
    "mem0.0625+wd52": {"level_memory": 0.0625, "weekday_weeks": 52},
    # f24 (thin city cells at short horizons). Keys "select_*" vary the selection rule
    # (``ml.selection.select``) on the same backtests; the others vary ForecastConfig.
    "ets-weekly": {"peers": {"weekly": ("auto_theta", "auto_ets"), **MONTHLY_PEERS}},
    "ets-weekly+thin-pool": {
        "peers": {"weekly": ("auto_theta", "auto_ets"), **MONTHLY_PEERS},
        "select_thin": "pool",
    },
    "own-rows": {"select_min_points": 0},  # every cell ranks on its own rows
    "thin-pool": {"select_thin": "pool"},  # a thin cell pools levels only (before f24)
    # f26: the peers as candidates on every level up to 24 series (Chicago's 22 districts)
    "peers24": {"peer_max_series": 24},
    # f32: the default config under a distinct cache key, so one code's backtests can be
    # cached under this name and compared with another code's "current" (same settings).
    "same-config": {"random_state": 0},
}
REFERENCE = "base"


def _cases(only: set[str]):  # noqa: ANN202  (yields Case)
    builders = {
        "replay": lambda: [forecast_data.replay_city()],
        "chicago": lambda: [forecast_data.chicago()],
        "stress": forecast_data.stress_cases,
    }
    for key in [k for k in builders if k in only]:
        yield from builders[key]()


def backtest(case, freq: str, origin: pd.Timestamp, variant: str, cache: Path) -> dict:  # noqa: ANN001
    """The scored backtest of one bench origin under ``variant`` (cached), with CPU seconds."""
    overrides = config_of(variant)
    key = {k: v for k, v in VARIANTS[variant].items() if not k.startswith("select_")}
    if "peers" in key:  # only this frequency's peers change its backtest
        peers = dict(key["peers"]).get(freq, ())  # type: ignore[call-overload]
        key["peers"] = None if peers == ForecastConfig().peers_of(freq) else peers
        key = {k: v for k, v in key.items() if v is not None}
    name = f"{case.name}|{freq}|{origin:%Y-%m-%d}|{sorted(key.items())}"
    path = cache / ("".join(c if c.isalnum() else "_" for c in name) + ".pkl")
    if path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301  (our own cache)
    full = build_panel(case.counts, freq)
    hist = full.truncated(int(full.periods.get_loc(origin)))
    config = dataclasses.replace(
        ForecastConfig(horizons={freq: YEAR[freq]}),
        **overrides,  # type: ignore[arg-type]
    )
    began = time.process_time()
    ctx = FeatureContext(hist, config, YEAR[freq])
    rows = peer_rows(ctx, config.peer_max_series)
    groups = reconcile_groups(ctx)
    bt = run_backtest(ctx, config, YEAR[freq], groups, rows if config.peers_of(freq) else None)
    blob = {
        "frame": bt.scored,
        "levels": list(dict.fromkeys(hist.keys["geo_level"])),
        "shifted": recent_shift(ctx, hist.n_periods - 1, groups),
        "cpu": time.process_time() - began,
    }
    path.write_bytes(pickle.dumps(blob))
    print(f"backtest {name}: {blob['cpu']:.1f} s CPU", file=sys.stderr, flush=True)
    return blob


def config_of(variant: str) -> dict[str, object]:
    """The variant's ForecastConfig changes."""
    return {k: v for k, v in VARIANTS[variant].items() if not k.startswith("select_")}


def select_of(variant: str) -> dict[str, object]:
    """The variant's keyword arguments of ``ml.selection.select``."""
    return {k[7:]: v for k, v in VARIANTS[variant].items() if k.startswith("select_")}


def cells(name: str, blob: dict, rule: dict | None = None) -> list[dict]:
    """Per level x bucket: the gbm's absolute error sum and the nested served one."""
    frame, out = blob["frame"], []
    if frame.empty:
        return out
    nested = np.full(len(frame), np.nan)
    for origin in np.unique(frame["origin"]):
        held = (frame["origin"] == origin).to_numpy()
        selection = select(frame[~held], blob["levels"], blob["shifted"], **(rule or {}))
        part = frame[held].reset_index(drop=True)
        nested[held] = reconciled(part, served(selection, part))  # as the engine serves it
    err = frame[["geo_level", "bucket"]].assign(
        gbm=np.abs(frame["y"] - frame["yhat_gbm"]) if "yhat_gbm" in frame else np.nan,
        season_trend=np.abs(frame["y"] - frame["yhat_season_trend"]),
        served=np.abs(frame["y"] - nested),
    )
    for (level, bucket), group in err.groupby(["geo_level", "bucket"]):
        out.append(
            {"case": name, "level": level, "bucket": bucket}
            | {k: float(group[k].sum()) for k in ("gbm", "season_trend", "served")}
        )
    return out


def compare(table: pd.DataFrame, column: str, variant: str, reference: str) -> str:
    """Cells better / worse than the reference and the geometric-mean ratio of ``column``."""
    ratio = (table[(variant, column)] / table[(reference, column)]).replace(np.inf, np.nan)
    ratio = ratio[(ratio > 0) & np.isfinite(ratio)]
    return (
        f"{column}: better in {(ratio < 0.999).sum()}, worse in {(ratio > 1.001).sum()}, "
        f"same in {((ratio >= 0.999) & (ratio <= 1.001)).sum()}; geometric-mean MAE ratio "
        f"{np.exp(np.log(ratio).mean()):.4f} (min {ratio.min():.3f}, max {ratio.max():.3f})"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the study and print one block per variant."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_cost_study")
    parser.add_argument("--cache", type=Path, default=Path("data/forecast_cost_study"))
    parser.add_argument("--only", default="replay,chicago,stress")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--detail", action="store_true", help="print every cell's ratios")
    args = parser.parse_args(argv)
    reference = args.reference
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    variants = [reference, *[v for v in args.variants.split(",") if v and v != reference]]
    args.cache.mkdir(parents=True, exist_ok=True)
    parts, cpu = [], dict.fromkeys(variants, 0.0)
    for case in _cases(only):
        for freq, origins in case.origins.items():
            for origin in origins:
                name = f"{case.name}|{freq}|{origin:%Y-%m-%d}"
                for variant in variants:
                    blob = backtest(case, freq, origin, variant, args.cache)
                    cpu[variant] += blob["cpu"]
                    rows = cells(name, blob, select_of(variant))
                    parts += [row | {"variant": variant} for row in rows]
    table = pd.DataFrame(parts).pivot_table(
        index=["case", "level", "bucket"],
        columns="variant",
        values=["gbm", "season_trend", "served"],
    )
    table = table.swaplevel(axis=1)
    for variant in variants:
        share = cpu[variant] / cpu[reference]
        print(f"{variant}: backtests {cpu[variant]:.1f} s CPU ({share:.2f}x)")
        if variant != reference:
            print("  " + compare(table, "gbm", variant, reference))
            print("  " + compare(table, "season_trend", variant, reference))
            print("  " + compare(table, "served", variant, reference))
    if args.detail:  # served MAE per cell, each variant / the reference
        served_mae = table.xs("served", axis=1, level=1)
        print(served_mae.div(served_mae[reference], axis=0).round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
