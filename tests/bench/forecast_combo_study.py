"""Wider and weighted forecast combinations judged on Blotter's own backtests (never the hold-out).

Same backtests and judge as ``tests.bench.forecast_study`` (each bench history cut at the bench
origin, year-ahead request, 3 full + 12 short-lead origins; nested leave-one-origin-out: each
origin forecast by the selection made on the others, reconciled to the city as the engine
serves it). The variants replace ``ml.selection.choose`` for the study only: a cell serves one
of several combination rules of its ranked candidates, chosen per cell by leave-one-origin-out
as ``ml.selection`` chooses k. Rules:
- ``eq k``: equal-weight mean of the k best (``ml.selection`` today: k in {1, 2});
- ``inv k``: the k best weighted by 1 / backtest error (``inv2``: 1 / error squared);
- ``ens``: the ``ensemble`` candidate alone (gbm, season_trend and the peers' mean).
A "shrink" variant serves its first rule (the robust default) unless the leave-one-origin-out
winner beats it by more than ``z`` standard errors of the per-origin error difference.

Usage: ``python -m tests.bench.forecast_combo_study [--cache DIR] [--only replay,chicago,stress]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from ml import selection as sel
from tests.bench.forecast_study import backtests, reconciled, served

Rule = tuple[str, int]
# label -> (rules, shrink z or None). The first variant is the reference (today's rule).
VARIANTS: dict[str, tuple[list[Rule], float | None]] = {
    "eq{1,2} (today)": ([("eq", 1), ("eq", 2)], None),
    "eq{1,2,3,4}": ([("eq", 1), ("eq", 2), ("eq", 3), ("eq", 4)], None),
    "eq{1,2}+inv3": ([("eq", 1), ("eq", 2), ("inv", 3)], None),
    "eq1,inv{2,3}": ([("eq", 1), ("inv", 2), ("inv", 3)], None),
    "eq3": ([("eq", 3)], None),
    "inv3": ([("inv", 3)], None),
    "inv2 3": ([("inv2", 3)], None),
    "inv4": ([("inv", 4)], None),
    "eq2 unless eq1 wins by 1 se": ([("eq", 2), ("eq", 1)], 1.0),
    "eq2 unless eq1 wins by 0.5 se": ([("eq", 2), ("eq", 1)], 0.5),
    "eq3 unless eq1/eq2 win by 1 se": ([("eq", 3), ("eq", 1), ("eq", 2)], 1.0),
    "inv3 unless eq1/eq2 win by 1 se": ([("inv", 3), ("eq", 1), ("eq", 2)], 1.0),
    "ens unless eq1/eq2 win by 0.5 se": ([("ens", 1), ("eq", 1), ("eq", 2)], 0.5),
    "ens unless eq1/eq2 win by 1 se": ([("ens", 1), ("eq", 1), ("eq", 2)], 1.0),
    "ens unless eq1/eq2 win by 2 se": ([("ens", 1), ("eq", 1), ("eq", 2)], 2.0),
    "eq1 unless eq2 wins by 1 se": ([("eq", 1), ("eq", 2)], 1.0),
}


def weights(rule: Rule, err: np.ndarray, candidates: list[str]) -> np.ndarray:
    """The rule's weight per candidate (summing to 1) from the candidates' backtest errors."""
    kind, k = rule
    w = np.zeros(len(err))
    if kind == "ens" and "ensemble" in candidates:
        w[candidates.index("ensemble")] = 1.0
        return w
    top = np.array(sel._ranked(err, candidates)[: 1 if kind == "ens" else k])
    w[top] = 1.0 if kind in ("eq", "ens") else 1.0 / np.maximum(err[top], 1e-9)
    if kind == "inv2":
        w[top] = w[top] ** 2
    return w / w.sum()


def per_origin(y, yhat, div, origins, candidates, rules) -> np.ndarray:  # noqa: ANN001
    """Held-out error sum per rule x origin, each origin served by the rule fitted on the rest."""
    found = np.unique(origins)
    index = np.searchsorted(found, origins)
    sums = np.zeros((len(found), yhat.shape[1]))
    np.add.at(sums, index, np.abs(y[:, None] - yhat) / div[:, None])
    counts = np.bincount(index, minlength=len(found)).astype(float)
    out = np.zeros((len(rules), len(found)))
    for i in range(len(found)):
        rest = (sums.sum(axis=0) - sums[i]) / (counts.sum() - counts[i])
        held = index == i
        for r, rule in enumerate(rules):
            pred = yhat[held] @ weights(rule, rest, candidates)
            out[r, i] = np.sum(np.abs(y[held] - pred) / div[held])
    return out


def chooser(rules: list[Rule], shrink: float | None) -> Callable[..., str | None]:
    """A drop-in for ``ml.selection.choose`` serving the variant's rules."""

    def choose(rows, level, candidates, top_k=None, min_points=sel.MIN_CELL_POINTS):  # noqa: ANN001, ANN202, ARG001
        if not candidates:
            return None
        pool, scaled = sel.pool_of(rows, level, candidates, min_points)
        if pool.empty:
            return None
        y, yhat, div, origins = sel._errors(pool, candidates, scaled)
        if len(y) == 0:
            return None
        err = np.mean(np.abs(y[:, None] - yhat) / div[:, None], axis=0)
        usable = [rule for rule in rules if rule[1] <= len(candidates)]
        best = len(usable) - 1 if scaled else 0  # as ml.selection without two origins
        if len(np.unique(origins)) >= 2:
            scores = per_origin(y, yhat, div, origins, candidates, usable)
            total = scores.sum(axis=1) / len(y)
            best = min(range(len(usable)), key=lambda r: (round(float(total[r]), 9), r))
            if shrink is not None and best != 0:
                diff = scores[best] - scores[0]
                se = diff.std(ddof=1) / np.sqrt(len(diff))
                best = best if diff.mean() < -shrink * se else 0
        w = weights(usable[best], err, candidates)
        order = [i for i in np.argsort(-w, kind="stable") if w[i] > 0]
        if len(order) == 1:
            return candidates[order[0]]
        return "+".join(f"{candidates[i]}*{w[i]:.3f}" for i in order)

    return choose


def nested_errors(blob: dict) -> dict[str, np.ndarray]:
    """Per variant: the absolute error of every backtest row served by nested selection."""
    frame, out = blob["frame"], {}
    for label, (rules, shrink) in VARIANTS.items():
        pred = np.full(len(frame), np.nan)
        with mock.patch.object(sel, "choose", chooser(rules, shrink)):
            for origin in np.unique(frame["origin"]):
                held = (frame["origin"] == origin).to_numpy()
                chosen = sel.select(frame[~held], blob["levels"], blob["shifted"])
                part = frame[held].reset_index(drop=True)
                pred[held] = reconciled(part, served(chosen, part))
        out[label] = np.abs(frame["y"].to_numpy() - pred)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the study and print one line per variant against today's rule."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_combo_study")
    parser.add_argument("--cache", type=Path, default=Path("data/forecast_study"))
    parser.add_argument("--only", default="replay,chicago,stress")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    parts = []
    for name, blob in backtests(only, args.cache):
        if blob["frame"].empty:
            continue
        errors = blob["frame"][["geo_level", "bucket"]].assign(**nested_errors(blob))
        part = errors.groupby(["geo_level", "bucket"]).sum()
        parts.append(part.assign(case=name).set_index("case", append=True))
    cells = pd.concat(parts)
    reference = next(iter(VARIANTS))
    for label in VARIANTS:
        ratio = (cells[label] / cells[reference]).replace(np.inf, np.nan).dropna()
        ratio = ratio[ratio > 0]
        print(
            f"{label:36s} better in {(ratio < 0.999).sum():3d} cells, worse in "
            f"{(ratio > 1.001).sum():3d}; geometric-mean MAE ratio "
            f"{np.exp(np.log(ratio).mean()):.4f} (min {ratio.min():.3f}, max {ratio.max():.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
