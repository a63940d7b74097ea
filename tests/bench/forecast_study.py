"""Selection rules judged on Blotter's own backtests in the bench histories (never the hold-out).

For every data set x freq x origin of ``make bench-forecast``, the history is cut at the bench
origin and the year-ahead backtest (3 full + 12 short-lead origins) is run once and cached.
Then, nested leave-one-origin-out: each backtest origin in turn is forecast by the selection
made on the other origins (the rule's own leave-one-origin-out runs inside), for each
``top_k`` variant of ``ml.selection.select``. Prints, per variant, how many level x bucket
cells its MAE beats the reference variant's, and the geometric mean of the MAE ratios.

Usage: ``python -m tests.bench.forecast_study [--cache DIR] [--only replay,chicago,stress]``.
"""

from __future__ import annotations

import argparse
import pickle
import sys
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
from ml.selection import members, method_for, select
from tests.bench import forecast_data
from tests.bench.forecast_data import YEAR

VARIANTS = {"k=1": (1,), "k in 1,2": (1, 2), "k in 1,2,3": (1, 2, 3), "k=2": (2,), "k=3": (3,)}
REFERENCE = "k=1"


def backtests(only: set[str], cache: Path):  # noqa: ANN201  (yields dicts)
    """Each bench origin's backtest frame, levels and shift flag (cached in ``cache``)."""
    builders = {
        "replay": lambda: [forecast_data.replay_city()],
        "chicago": lambda: [forecast_data.chicago()],
        "stress": forecast_data.stress_cases,
    }
    cache.mkdir(parents=True, exist_ok=True)
    for key in [k for k in builders if k in only]:
        for case in builders[key]():
            for freq, origins in case.origins.items():
                full = build_panel(case.counts, freq)
                for origin in origins:
                    name = f"{case.name}|{freq}|{origin:%Y-%m-%d}"
                    path = cache / ("".join(c if c.isalnum() else "_" for c in name) + ".pkl")
                    if not path.exists():
                        hist = full.truncated(int(full.periods.get_loc(origin)))
                        config = ForecastConfig(horizons={freq: YEAR[freq]})
                        ctx = FeatureContext(hist, config, YEAR[freq])
                        rows = peer_rows(ctx, config.peer_max_series)
                        groups = reconcile_groups(ctx)
                        bt = run_backtest(
                            ctx, config, YEAR[freq], groups,
                            rows if config.peers_of(freq) else None,
                        )  # fmt: skip
                        levels = list(dict.fromkeys(hist.keys["geo_level"]))
                        shifted = recent_shift(ctx, hist.n_periods - 1, groups)
                        blob = {"frame": bt.scored, "levels": levels, "shifted": shifted}
                        path.write_bytes(pickle.dumps(blob))
                        print(f"backtest {name}", file=sys.stderr, flush=True)
                    yield name, pickle.loads(path.read_bytes())  # noqa: S301  (our own cache)


def served(selection: dict, held: pd.DataFrame) -> np.ndarray:
    """The forecast a selection serves on the held-out rows (seasonal naive where missing)."""
    pred = np.full(len(held), np.nan)
    for (level, bucket), idx in held.groupby(["geo_level", "bucket"]).indices.items():
        weights = members(method_for(selection, level, bucket, "seasonal_naive"))
        cols = [f"yhat_{m}" for m in weights]
        part = held.iloc[idx]
        if not set(cols) <= set(held) or not np.isfinite(part[cols].to_numpy()).all():
            weights, cols = {"seasonal_naive": 1.0}, ["yhat_seasonal_naive"]
        w = np.array(list(weights.values()))
        pred[idx] = part[cols].to_numpy() @ w / w.sum()
    return pred


def reconciled(frame: pd.DataFrame, pred: np.ndarray) -> np.ndarray:
    """``pred`` with each lower level scaled to sum to the city per origin and step, as
    ``ml.engine`` does to the assembled forecast; a level is scaled where its actuals sum to
    the city's on every row (``ml.models.reconcile_groups`` checks the history)."""
    out = pred.copy()
    levels = frame["geo_level"].to_numpy()
    if (levels == "city").sum() == 0:
        return out
    keys = frame["origin"].astype(str) + "|" + frame["h"].astype(str)
    city = pd.DataFrame({"k": keys, "y": frame["y"], "p": pred})[levels == "city"]
    city = city.groupby("k")[["y", "p"]].sum()
    for level in set(levels) - {"city"}:
        mask = levels == level
        part = pd.DataFrame({"k": keys[mask], "y": frame["y"][mask], "p": pred[mask]})
        sums = part.groupby("k")[["y", "p"]].sum().reindex(city.index)
        if not np.allclose(sums["y"], city["y"]) or not np.isfinite(sums["p"]).all():
            continue
        factor = np.divide(
            city["p"], sums["p"], out=np.ones(len(city)), where=sums["p"].to_numpy() > 0
        )
        out[mask] = pred[mask] * factor.reindex(part["k"]).to_numpy()
    return out


def nested(name: str, blob: dict) -> list[dict]:
    """Per held-out backtest origin x level x bucket: each variant's absolute error sum."""
    frame, out = blob["frame"], []
    for origin in np.unique(frame["origin"]) if not frame.empty else []:
        rest = frame[frame["origin"] != origin]
        held = frame[frame["origin"] == origin].reset_index(drop=True)
        errors = {
            label: np.abs(
                held["y"]
                - reconciled(held, served(select(rest, blob["levels"], blob["shifted"], k), held))
            )
            for label, k in VARIANTS.items()
        }
        cells = held[["geo_level", "bucket"]].assign(**errors)
        for (level, bucket), group in cells.groupby(["geo_level", "bucket"]):
            sums = {label: float(group[label].sum()) for label in VARIANTS}
            out.append({"case": name, "level": level, "bucket": bucket, "n": len(group)} | sums)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the study and print one line per variant."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_study")
    parser.add_argument("--cache", type=Path, default=Path("data/forecast_study"))
    parser.add_argument("--only", default="replay,chicago,stress")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    rows = [row for name, blob in backtests(only, args.cache) for row in nested(name, blob)]
    cells = pd.DataFrame(rows).groupby(["case", "level", "bucket"]).sum()
    for label in VARIANTS:
        ratio = (cells[label] / cells[REFERENCE]).replace([np.inf], np.nan).dropna()
        ratio = ratio[ratio > 0]
        print(
            f"{label:11s} vs {REFERENCE}: better in {(ratio < 0.999).sum()} cells, worse in "
            f"{(ratio > 1.001).sum()}, same in {((ratio >= 0.999) & (ratio <= 1.001)).sum()}; "
            f"geometric-mean MAE ratio {np.exp(np.log(ratio).mean()):.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
