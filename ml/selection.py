"""Per horizon bucket and geography level: which method serves, and the assembled forecast.

Each (geo_level, bucket) cell ranks the methods that forecast every row of it by backtest
error (ties: the earlier method in ``ml.models.METHODS``) and serves the equal-weight mean of
the k best, k in ``TOP_K`` (1 or 2). With a few origins per cell a single backtest winner is
a noisy pick, and the mean of the top few is the M4 / M5 remedy, but not everywhere: k is chosen per
cell by leave-one-origin-out (each origin forecast by the candidates that won on the other
origins), so "single pick or combination" is itself judged on the backtest. A thick cell
ranks on its own rows by absolute error. A cell with fewer than ``MIN_CELL_POINTS`` backtest
points (e.g. the single city series at weekly 1-7 days: 15) ranks on its own level's rows of
this bucket and the next one (the same series at the next lead times: 60 points), so that
its pick is not a coin flip among candidates a few percent apart. The last bucket (nothing
after it), or a pair still thin, ranks on the rows at every level where all of its
candidates forecast (the city pools with the levels the peers are fitted on), by
count-scaled error (|error| / the series' seasonal-naive MAE) so that levels of different
volume weigh alike. A combination is written ``"a*0.500+b*0.500"`` (method*weight).

After a detected level shift the shift-aware global model serves everywhere: backtest origins
before the shift say little about what works after it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.backtest import available_methods
from ml.config import HORIZON_BUCKETS
from ml.models import METHODS

MIN_CELL_POINTS = 30
# Serve the mean of the k best candidates, k chosen per cell by leave-one-origin-out. Chosen
# on Blotter's own backtests in the bench histories, never the hold-out
# (``python -m tests.bench.forecast_study``: nested leave-one-origin-out over 150 origin x
# level x bucket cells, geometric-mean MAE vs always k = 1: k in {1, 2} 0.991, {1, 2, 3} 0.993,
# always 2 0.995, always 3 0.998; vs the previous rule, single best and thin cells the
# inverse-error mean of 3: {1, 2} 0.994, {1, 2, 3} 0.998). Wider, inverse-error-weighted or
# shrunk-towards-a-combination rules lost to {1, 2} there too (f26, ``python -m
# tests.bench.forecast_combo_study``: k in {1..4} 1.011, inverse-error top 3 1.017, the
# ensemble unless a pick wins by 1 s.e. 1.007): ``ensemble`` is a candidate already.
TOP_K = (1, 2)
# A thin cell borrows the next bucket's rows of its level ("next"; "pool": only the pooling
# across levels, before f24). On the same backtests (``python -m
# tests.bench.forecast_cost_study``, 150 cells, nested leave-one-origin-out) the served MAE
# of the 11 thin weekly city 1-7 d cells fell in 7, rose in 2 (geometric mean 0.973); the
# levels reconciled to them 6 / 4; all cells 13 / 6, 0.998.
THIN_RULE = "next"
Selection = dict[str, dict[str, str]]  # geo_level -> bucket -> method (or a combination)


def equal_weights(ranked: list[str], k: int) -> str:
    """The mean of the ``k`` first of ``ranked`` written as a combination (one: the method)."""
    top = ranked[:k]
    if len(top) == 1:
        return top[0]
    return "+".join(f"{m}*{1 / len(top):.3f}" for m in top)


def pool_of(
    rows: pd.DataFrame, level: str, candidates: list[str], min_points: int = MIN_CELL_POINTS
) -> tuple[pd.DataFrame, bool]:
    """The rows a cell ranks its candidates on and whether errors are count-scaled.

    A thick cell ranks on its own rows by absolute error (its MAE is what it is judged on);
    a thin cell pools with every level of the bucket where all its candidates forecast, by
    count-scaled error (see module doc).
    """
    own = rows["geo_level"] == level
    if own.sum() >= min_points:
        return rows[own], False
    shared = [
        lvl for lvl, group in rows.groupby("geo_level", sort=False)
        if set(candidates) <= set(available_methods(group))
    ]  # fmt: skip
    return (rows[rows["geo_level"].isin(shared)] if level in shared else rows[own]), True


def _errors(pool: pd.DataFrame, candidates: list[str], scaled: bool):  # noqa: ANN202
    """(y, forecasts n x m, divisor, origin) per scored row (count-scaled: rows with a scale)."""
    div = np.ones(len(pool))
    keep = np.ones(len(pool), dtype=bool)
    if scaled:
        scale = pool["scale"].to_numpy(float)
        ok = np.isfinite(scale) & (scale > 0)
        if ok.any():
            keep, div = ok, np.where(ok, scale, 1.0)
    y = pool["y"].to_numpy(float)[keep]
    yhat = pool[[f"yhat_{m}" for m in candidates]].to_numpy(float)[keep]
    return y, yhat, div[keep], pool["origin"].to_numpy()[keep]


def _ranked(err: np.ndarray, candidates: list[str]) -> list[int]:
    """Candidate indices by mean error (ties: the earlier method in ``METHODS``)."""
    return sorted(
        range(len(candidates)),
        key=lambda i: (round(float(err[i]), 9), METHODS.index(candidates[i])),
    )


def loo_top(
    y: np.ndarray,
    yhat: np.ndarray,
    div: np.ndarray,
    origins: np.ndarray,
    candidates: list[str],
    top_k: tuple[int, ...] = TOP_K,
) -> dict[int, float]:
    """Leave-one-origin-out error of serving the mean of the k best (k in ``top_k``).

    Each origin in turn is forecast by the k candidates that were best on the other origins;
    the result is the mean count-scaled (or absolute) error over every held-out row. Empty
    with fewer than two origins (nothing to hold out).
    """
    found = np.unique(origins)
    if len(found) < 2:
        return {}
    abs_err = np.abs(y[:, None] - yhat) / div[:, None]
    index = np.searchsorted(found, origins)
    sums = np.zeros((len(found), yhat.shape[1]))
    np.add.at(sums, index, abs_err)
    counts = np.bincount(index, minlength=len(found)).astype(float)
    ks = [k for k in top_k if k <= yhat.shape[1]]
    total = dict.fromkeys(ks, 0.0)
    for i in range(len(found)):
        rest = (sums.sum(axis=0) - sums[i]) / (counts.sum() - counts[i])
        order = _ranked(rest, candidates)
        held = index == i
        for k in ks:
            pred = yhat[held][:, order[:k]].mean(axis=1)
            total[k] += float(np.sum(np.abs(y[held] - pred) / div[held]))
    return {k: v / len(y) for k, v in total.items()}


def choose(
    rows: pd.DataFrame,
    level: str,
    candidates: list[str],
    top_k: tuple[int, ...] = TOP_K,
    min_points: int = MIN_CELL_POINTS,
) -> str | None:
    """A cell's method: the k best candidates' mean, k chosen by leave-one-origin-out.

    Ranking the candidates on every origin and serving the single best is noisy with few
    origins; the mean of the top few is the M4 / M5 remedy but not always better. Which k
    serves is itself decided on the backtest: each k is scored on every origin by the
    candidates that won on the others (ties: the smaller k). Without two origins a thick
    cell takes its best and a thin one the mean of its ``max(top_k)`` best.
    """
    if not candidates:
        return None
    pool, scaled = pool_of(rows, level, candidates, min_points)
    if pool.empty:
        return None
    y, yhat, div, origins = _errors(pool, candidates, scaled)
    if len(y) == 0:
        return None
    err = np.mean(np.abs(y[:, None] - yhat) / div[:, None], axis=0)
    ranked = [candidates[i] for i in _ranked(err, candidates)]
    scores = loo_top(y, yhat, div, origins, candidates, top_k)
    if scores:
        k = min(scores, key=lambda key: (round(scores[key], 9), key))
    else:
        k = max(top_k) if scaled else 1
    return equal_weights(ranked, k)


def members(choice: str) -> dict[str, float]:
    """Methods and weights of a selection entry (a single method has weight 1)."""
    if "*" not in choice:
        return {choice: 1.0}
    parts = (part.split("*") for part in choice.split("+"))
    return {name: float(weight) for name, weight in parts}


def select(
    frame: pd.DataFrame,
    levels: list[str],
    shifted: bool,
    top_k: tuple[int, ...] = TOP_K,
    min_points: int = MIN_CELL_POINTS,
    thin: str = THIN_RULE,
) -> Selection:
    """Method per geo_level x bucket from the backtest ``frame`` (empty when no backtest);
    ``top_k``, ``min_points``, ``thin``: rule variants the bench studies compare."""
    if thin not in ("next", "pool"):
        raise ValueError(f"unknown thin-cell rule {thin!r}; expected 'next' or 'pool'")
    out: Selection = {level: {} for level in levels}
    if frame.empty:
        return out
    by_bucket = dict(tuple(frame.groupby("bucket", sort=False)))
    names = [name for name, _ in HORIZON_BUCKETS]
    for bucket, rows in by_bucket.items():
        for level in levels:
            cell = rows[rows["geo_level"] == level]
            candidates = available_methods(cell)
            choice: str | None
            later = [b for b in names[names.index(str(bucket)) + 1 :] if b in by_bucket]
            if shifted and "gbm" in candidates:
                choice = "gbm"
            elif len(cell) < min_points and thin == "next" and later:
                both = pd.concat([rows, by_bucket[later[0]]])
                both_cell = both[both["geo_level"] == level]
                choice = choose(both, level, available_methods(both_cell), top_k, min_points)
            else:
                choice = choose(rows, level, candidates, top_k, min_points)
            if choice:
                out[level][str(bucket)] = choice
    return out


def method_for(selection: Selection, level: str, bucket: str, default: str) -> str:
    """The method of a cell; a bucket the backtest never reached takes the nearest earlier one."""
    chosen = selection.get(level, {})
    if bucket in chosen:
        return chosen[bucket]
    names = [name for name, _ in HORIZON_BUCKETS]
    earlier = [b for b in names[: names.index(bucket)] if b in chosen]
    return chosen[earlier[-1]] if earlier else default


def combine(preds: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray | None:
    """The weighted sum of the members' forecasts (full size; None when one is missing)."""
    if not weights or any(name not in preds for name in weights):
        return None
    total = np.sum([weight * preds[name] for name, weight in weights.items()], axis=0)
    return total / sum(weights.values())


def assemble(
    preds: dict[str, np.ndarray],
    selection: Selection,
    levels: np.ndarray,
    buckets: list[str],
    default: str,
) -> tuple[np.ndarray, dict[str, dict[str, str]]]:
    """The forecast (series x h) taking each cell from its method, and what served each cell.

    A method missing from ``preds`` (e.g. the GBM where the history got too short) falls back
    to ``default``. So does a series where the method has no forecast (a peer is NaN on a
    history shorter than ``ml.peers.MIN_POINTS``, e.g. a geography that began a few periods
    ago): that series alone, not its whole level (before f31, one new geography sent its
    level's cell to ``default``). ``served`` names the method that served the cell's other
    series.
    """
    n, horizon = len(levels), len(buckets)
    out = np.full((n, horizon), np.nan)
    served: dict[str, dict[str, str]] = {}
    bucket_arr = np.array(buckets)
    for level in dict.fromkeys(levels):
        rows = np.flatnonzero(levels == level)
        for bucket in dict.fromkeys(buckets):
            cols = np.flatnonzero(bucket_arr == bucket)
            method = method_for(selection, str(level), bucket, default)
            values = combine(preds, members(method))
            if values is None:
                method, values = default, preds[default]
            block = values[np.ix_(rows, cols)]
            missing = ~np.isfinite(block).all(axis=1)
            if missing.all():
                method = default
            block[missing] = preds[default][np.ix_(rows[missing], cols)]
            out[np.ix_(rows, cols)] = block
            served.setdefault(str(level), {})[bucket] = method
    return out, served


def fell_back(
    preds: dict[str, np.ndarray], served: Selection, levels: np.ndarray, buckets: list[str]
) -> np.ndarray:
    """Series (row indices) the method serving their level left without a forecast in some
    bucket: ``assemble`` gave them the default (the run's notes name them)."""
    out: set[int] = set()
    bucket_arr = np.array(buckets)
    for level, cells in served.items():
        rows = np.flatnonzero(levels == level)
        for bucket, method in cells.items():
            values = combine(preds, members(method))
            if values is not None:
                cols = np.flatnonzero(bucket_arr == bucket)
                out.update(rows[~np.isfinite(values[np.ix_(rows, cols)]).all(axis=1)].tolist())
    return np.array(sorted(out), dtype=int)
