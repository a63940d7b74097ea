"""Per horizon bucket and geography level: which method serves, and the assembled forecast.

Each (geo_level, bucket) cell takes the method with the lowest backtest MAE among those that
forecast every row of the cell (ties: the earlier method in ``ml.models.METHODS``). A cell
with fewer than ``MIN_CELL_POINTS`` backtest points (e.g. the single city series at 1-7 days)
takes its bucket's choice over all levels, so one lucky week does not pick a method. After a
detected level shift the shift-aware global model serves everywhere: backtest origins before
the shift say little about what works after it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.backtest import available_methods
from ml.config import HORIZON_BUCKETS
from ml.models import METHODS

MIN_CELL_POINTS = 30
Selection = dict[str, dict[str, str]]  # geo_level -> bucket -> method


def best(frame: pd.DataFrame, candidates: list[str]) -> str | None:
    """Lowest-MAE candidate on ``frame`` (None when there is none)."""
    if not candidates or frame.empty:
        return None
    mae = {m: float(np.mean(np.abs(frame["y"] - frame[f"yhat_{m}"]))) for m in candidates}
    return min(candidates, key=lambda m: (round(mae[m], 9), METHODS.index(m)))


def select(frame: pd.DataFrame, levels: list[str], shifted: bool) -> Selection:
    """Method per geo_level x bucket from the backtest ``frame`` (empty when no backtest)."""
    out: Selection = {level: {} for level in levels}
    if frame.empty:
        return out
    for bucket, rows in frame.groupby("bucket", sort=False):
        pooled = best(rows, available_methods(rows))
        for level in levels:
            cell = rows[rows["geo_level"] == level]
            candidates = available_methods(cell)
            choice: str | None
            if shifted and "gbm" in candidates:
                choice = "gbm"
            elif len(cell) < MIN_CELL_POINTS and pooled in candidates:
                choice = pooled
            else:
                choice = best(cell, candidates) or pooled
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
            values = preds.get(method)
            if values is None or not np.isfinite(values[np.ix_(rows, cols)]).all():
                method, values = default, preds[default]
            out[np.ix_(rows, cols)] = values[np.ix_(rows, cols)]
            served.setdefault(str(level), {})[bucket] = method
    return out, served
