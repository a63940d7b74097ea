"""Per horizon bucket and geography level: which method serves, and the assembled forecast.

Each (geo_level, bucket) cell takes the method with the lowest backtest MAE among those that
forecast every row of the cell (ties: the earlier method in ``ml.models.METHODS``). A cell
with fewer than ``MIN_CELL_POINTS`` backtest points (e.g. the single city series at 1-7 days)
is too thin to pick one method: it is served by an inverse-error weighted combination of the
``COMBINE_TOP`` best of its own candidates, ranked on the bucket's rows at every level where
all of those candidates forecast (the city pools with the levels the peers are fitted on),
by count-scaled error (|error| / the series' seasonal-naive MAE) so that levels of different
volume weigh alike. (Before, a thin cell took the method that was best over every level
pooled, which never includes a peer fitted on some levels only: the replay city's monthly
cells could not pick AutoTheta though it won their backtest.) A combination is written
``"a*0.41+b*0.33+c*0.26"`` (method*weight).

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
COMBINE_TOP = 3
Selection = dict[str, dict[str, str]]  # geo_level -> bucket -> method (or a combination)


def best(frame: pd.DataFrame, candidates: list[str]) -> str | None:
    """Lowest-MAE candidate on ``frame`` (None when there is none)."""
    if not candidates or frame.empty:
        return None
    mae = {m: float(np.mean(np.abs(frame["y"] - frame[f"yhat_{m}"]))) for m in candidates}
    return min(candidates, key=lambda m: (round(mae[m], 9), METHODS.index(m)))


def scaled_errors(frame: pd.DataFrame, candidates: list[str]) -> dict[str, float]:
    """Mean |error| / scale of each candidate over the rows with a positive scale (MAE
    when no row has one)."""
    scale = frame["scale"].to_numpy(float)
    ok = np.isfinite(scale) & (scale > 0)
    rows, div = (frame[ok], scale[ok]) if ok.any() else (frame, np.ones(len(frame)))
    y = rows["y"].to_numpy(float)
    return {
        m: float(np.mean(np.abs(y - rows[f"yhat_{m}"].to_numpy(float)) / div)) for m in candidates
    }


def weighted(errors: dict[str, float], ranked: list[str]) -> str:
    """Inverse-error weighted combination of the first ``COMBINE_TOP`` of ``ranked``
    (the single best when only one, or when it has no error)."""
    top = ranked[:COMBINE_TOP]
    if len(top) == 1 or errors[top[0]] <= 0:
        return top[0]
    inverse = np.array([1.0 / errors[m] for m in top])
    weights = np.round(inverse / inverse.sum(), 3)
    return "+".join(f"{m}*{w:.3f}" for m, w in zip(top, weights, strict=True))


def combination(rows: pd.DataFrame, level: str, candidates: list[str]) -> str | None:
    """Inverse-error weighted combination of a thin cell's best candidates (see module doc)."""
    if not candidates:
        return None
    shared = [
        lvl for lvl, group in rows.groupby("geo_level", sort=False)
        if set(candidates) <= set(available_methods(group))
    ]  # fmt: skip
    own = rows["geo_level"] == level
    pool = rows[rows["geo_level"].isin(shared)] if level in shared else rows[own]
    err = scaled_errors(pool, candidates)
    return weighted(err, sorted(candidates, key=lambda m: (round(err[m], 9), METHODS.index(m))))


def members(choice: str) -> dict[str, float]:
    """Methods and weights of a selection entry (a single method has weight 1)."""
    if "*" not in choice:
        return {choice: 1.0}
    parts = (part.split("*") for part in choice.split("+"))
    return {name: float(weight) for name, weight in parts}


def select(frame: pd.DataFrame, levels: list[str], shifted: bool) -> Selection:
    """Method per geo_level x bucket from the backtest ``frame`` (empty when no backtest)."""
    out: Selection = {level: {} for level in levels}
    if frame.empty:
        return out
    for bucket, rows in frame.groupby("bucket", sort=False):
        for level in levels:
            cell = rows[rows["geo_level"] == level]
            candidates = available_methods(cell)
            choice: str | None
            if shifted and "gbm" in candidates:
                choice = "gbm"
            elif len(cell) < MIN_CELL_POINTS:
                choice = combination(rows, level, candidates)
            else:
                choice = best(cell, candidates)
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


def combine(
    preds: dict[str, np.ndarray], weights: dict[str, float], rows: np.ndarray, cols: np.ndarray
) -> np.ndarray | None:
    """The weighted sum of the members' forecasts (full size; None when one is missing or not
    finite on the cell's rows and columns)."""
    total = None
    for name, weight in weights.items():
        values = preds.get(name)
        if values is None or not np.isfinite(values[np.ix_(rows, cols)]).all():
            return None
        total = weight * values if total is None else total + weight * values
    if total is None:
        return None
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
    to ``default``.
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
            values = combine(preds, members(method), rows, cols)
            if values is None:
                method, values = default, preds[default]
            out[np.ix_(rows, cols)] = values[np.ix_(rows, cols)]
            served.setdefault(str(level), {})[bucket] = method
    return out, served
