"""Rolling-origin backtest and its metrics per frequency x geography level.

Origins are spaced one horizon apart and end one horizon before the last complete period
(default 3 origins), each refitting every method on data up to the origin only. MASE is the
pooled MAE divided by the in-sample MAE of the seasonal naive (lag ``season``) up to the
origin, i.e. the textbook scaling (Hyndman & Koehler 2006), pooled over series so that sparse
series with an all-zero history do not divide by zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.config import ForecastConfig
from ml.features import FeatureContext
from ml.intervals import loo_coverage
from ml.models import METHODS, forecast_methods, has_ml_history


def backtest_origins(n_periods: int, horizon: int, n_origins: int) -> list[int]:
    """Origin indices (last period used for training), oldest first; may be fewer than asked."""
    last = n_periods - 1
    origins = [last - k * horizon for k in range(n_origins, 0, -1)]
    return [o for o in origins if o >= 1]


def mase_scale(y: np.ndarray, origin: int, season: int) -> np.ndarray:
    """Per series: in-sample MAE of the seasonal naive up to ``origin`` (naive when too short)."""
    hist = y[:, : origin + 1]
    lag = season if hist.shape[1] > season + 1 else 1
    if hist.shape[1] <= lag:
        return np.full(y.shape[0], np.nan)
    diff = np.abs(hist[:, lag:] - hist[:, :-lag])
    count = np.sum(~np.isnan(diff), axis=1)
    total = np.nansum(diff, axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def run_backtest(
    ctx: FeatureContext, config: ForecastConfig, horizon: int, groups: list[np.ndarray]
) -> pd.DataFrame:
    """Long frame: origin, geo_level, geo, h, y, scale and ``yhat_<method>`` per method.

    A method appears only when every origin produced it (the GBM needs enough history); when
    some origins have enough history for the GBM, only those are used.
    """
    panel = ctx.panel
    frames = []
    origins = backtest_origins(panel.n_periods, horizon, config.backtest_origins)
    # Judge every method on the origins where the main model can train, when there are any.
    origins = [o for o in origins if has_ml_history(ctx, o, horizon)] or origins
    for origin in origins:
        h_max = min(horizon, panel.n_periods - 1 - origin)
        with_gbm = has_ml_history(ctx, origin, h_max)
        preds = forecast_methods(ctx, origin, h_max, config, with_gbm, groups)
        scale = mase_scale(panel.y, origin, ctx.spec.season)
        n = panel.n_series
        frame = pd.DataFrame(
            {
                "origin": origin,
                "geo_level": np.repeat(panel.keys["geo_level"].to_numpy(), h_max),
                "geo": np.repeat(panel.keys["geo"].to_numpy(), h_max),
                "h": np.tile(np.arange(1, h_max + 1), n),
                "y": panel.y[:, origin + 1 : origin + 1 + h_max].reshape(-1),
                "scale": np.repeat(scale, h_max),
            }
        )
        for name, pred in preds.items():
            frame[f"yhat_{name}"] = pred.reshape(-1)
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out = out[np.isfinite(out["y"])]
    keep = [c for c in out.columns if not c.startswith("yhat_") or out[c].notna().all()]
    return out[keep].reset_index(drop=True)


def available_methods(bt: pd.DataFrame) -> list[str]:
    """Methods the backtest scored, in preference order."""
    return [m for m in METHODS if f"yhat_{m}" in bt.columns]


def select_method(bt: pd.DataFrame) -> str | None:
    """The main model if its backtest MAE beats the seasonal naive, else the best fallback.

    Preferring the main model whenever it beats the baseline (rather than taking the
    overall minimum) keeps a flat "level" forecast from winning by luck on a backtest whose
    origins straddle a level shift.
    """
    methods = available_methods(bt)
    if bt.empty or not methods:
        return None
    mae = {m: float(np.mean(np.abs(bt["y"] - bt[f"yhat_{m}"]))) for m in methods}
    if "gbm" in mae and mae["gbm"] <= mae["seasonal_naive"]:
        return "gbm"
    rest = [m for m in methods if m != "gbm"]
    return min(rest, key=lambda m: (round(mae[m], 9), METHODS.index(m)))


def with_coverage(bt: pd.DataFrame, method: str) -> pd.DataFrame:
    """Backtest rows of ``method`` with yhat and leave-one-origin-out coverage."""
    return loo_coverage(bt.assign(yhat=bt[f"yhat_{method}"]))


def _metrics(group: pd.DataFrame, method: str) -> dict[str, float]:
    err = group["y"] - group[f"yhat_{method}"]
    naive_err = group["y"] - group["yhat_seasonal_naive"]
    scale = group["scale"].sum()
    return {
        "n": int(len(group)),
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "mase": float(np.abs(err).sum() / scale) if scale > 0 else float("nan"),
        "mae_seasonal_naive": float(np.abs(naive_err).mean()),
        "coverage_80": float(group["in_80"].mean()) if "in_80" in group else float("nan"),
        "coverage_95": float(group["in_95"].mean()) if "in_95" in group else float("nan"),
    }


def performance(bt: pd.DataFrame, selected: str) -> pd.DataFrame:
    """Metrics per method x geo_level (plus geo_level 'all'); coverage for ``selected`` only."""
    rows = []
    covered = with_coverage(bt, selected)
    for method in available_methods(bt):
        frame = covered if method == selected else bt
        for level, group in [("all", frame), *frame.groupby("geo_level", sort=True)]:
            metrics = _metrics(group, method)
            rows.append(
                {"geo_level": level, "method": method, "is_selected": method == selected} | metrics
            )
    return pd.DataFrame(rows)
