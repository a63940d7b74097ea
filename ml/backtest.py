"""Horizon-honest rolling-origin backtest and its metrics per horizon bucket.

The backtest asks the user's question: every origin forecasts the whole requested horizon
(a 52-week request is judged on origins that forecast 52 weeks ahead), origins are spaced one
horizon apart and end one horizon before the last complete period, and each refits every
method on data up to the origin only. Rows carry the horizon bucket of their step
(``ml.config.HORIZON_BUCKETS``): selection, calibration and metrics are per bucket.

MASE is the pooled MAE divided by the in-sample MAE of the seasonal naive (lag ``season``) up
to the origin (Hyndman & Koehler 2006), pooled over series so that sparse series with an
all-zero history do not divide by zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.config import ForecastConfig, buckets_of
from ml.features import FeatureContext
from ml.models import METHODS, fit_gbm, forecast_methods, has_ml_history


def backtest_origins(n_periods: int, horizon: int, n_origins: int) -> list[int]:
    """Origin indices (last period used for training), oldest first; may be fewer than asked."""
    last = n_periods - 1
    origins = [last - k * horizon for k in range(n_origins, 0, -1)]
    return [o for o in origins if o >= 1]


def short_lead(freq: str, horizon: int) -> int:
    """Largest step before the horizon's last bucket (0 when the horizon has one bucket).

    A year-ahead request's short buckets (1-7 days .. 1-3 months) are judged on extra origins
    that forecast only this far: 3 year-ahead origins give the city 3 points at 1-7 days.
    """
    names = buckets_of(freq, horizon)
    return max((h for h, b in enumerate(names, 1) if b != names[-1]), default=0)


def short_origins(origins: list[int], n_periods: int, lead: int, count: int) -> list[int]:
    """``count`` origins evenly spread from the first backtest origin to the last one whose
    ``lead`` steps are observed, excluding the backtest origins themselves (oldest first)."""
    if lead <= 0 or count <= 0 or not origins:
        return []
    last = n_periods - 1 - lead
    if last <= origins[0]:
        return []
    spread = np.unique(np.round(np.linspace(origins[0], last, count + 1)[1:]).astype(int))
    return [int(o) for o in spread if o not in set(origins)]


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


@dataclass
class Backtest:
    """Backtest of one frequency.

    Attributes:
        frame: Long rows: origin, series, geo_level, geo, h, bucket, y, scale, yhat_<method>
            (NaN where a method has no forecast, e.g. a peer outside its levels), in the
            order origin x series x h (y is NaN before a series' first incident).
        preds: Per origin, each method's (series x h) forecast (for assembling selections).
        origins: The full-horizon origins, oldest first.
        short: The short-lead origins (``short_origins``), whose rows stop at the step
            before the horizon's last bucket; ``preds`` lists them after ``origins``.
    """

    frame: pd.DataFrame
    preds: list[dict[str, np.ndarray]] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    short: list[int] = field(default_factory=list)

    @property
    def scored(self) -> pd.DataFrame:
        """Rows with an actual value (a series' periods before its first incident are NaN)."""
        if self.frame.empty:
            return self.frame
        return self.frame[np.isfinite(self.frame["y"])].reset_index(drop=True)

    @property
    def empty(self) -> bool:
        """True when no origin could be scored."""
        return self.scored.empty


def run_backtest(
    ctx: FeatureContext,
    config: ForecastConfig,
    horizon: int,
    groups: list[np.ndarray],
    peer_rows: np.ndarray | None = None,
) -> Backtest:
    """Forecast the full horizon from each origin with every method and score it.

    When some origins have enough history for the GBM, only those are used, so every
    method is judged on the same origins. Then the short-lead origins forecast the buckets
    before the horizon's last one (each bucket is judged at its own lead times on many more
    points); they reuse the global model and the peers' fits of the latest full origin
    before them (applied to the data up to the short origin: no refit, no look-ahead).
    """
    panel = ctx.panel
    origins = backtest_origins(panel.n_periods, horizon, config.backtest_origins)
    origins = [o for o in origins if has_ml_history(ctx, o, horizon)] or origins
    lead = short_lead(panel.freq, horizon)
    extra = short_origins(origins, panel.n_periods, lead, config.short_origins)
    frames, preds, models = [], [], {}
    peer_fits: dict[int, dict] = {}
    for origin in origins:
        h_max = min(horizon, panel.n_periods - 1 - origin)
        with_gbm = has_ml_history(ctx, origin, h_max)
        models[origin] = fit_gbm(ctx, origin, h_max, config) if with_gbm else None
        peer_fits[origin] = {}
        pred = forecast_methods(
            ctx, origin, h_max, config, False, groups, peer_rows, models[origin],
            peer_fits[origin],
        )  # fmt: skip
        frames.append(_rows(ctx, origin, h_max, pred))
        preds.append(pred)
    for origin in extra:
        # The models of the latest full origin before it (fitted on older data only), applied
        # to the data up to this origin.
        fitted = max(o for o in origins if o <= origin)
        pred = forecast_methods(
            ctx, origin, lead, config, False, groups, peer_rows, models[fitted],
            peer_fits[fitted], forward=True,
        )  # fmt: skip
        frames.append(_rows(ctx, origin, lead, pred))
        preds.append(pred)
    if not frames:
        return Backtest(pd.DataFrame())
    out = pd.concat(frames, ignore_index=True)
    # A method must exist at every origin to be compared (the GBM needs enough history).
    common = set.intersection(*(set(p) for p in preds))
    drop = [c for c in out.columns if c.startswith("yhat_") and c[5:] not in common]
    out = out.drop(columns=drop)
    kept = [{k: v for k, v in p.items() if k in common} for p in preds]
    return Backtest(out, kept, origins, extra)


def _rows(ctx: FeatureContext, origin: int, h_max: int, pred: dict[str, np.ndarray]):  # noqa: ANN202
    """Long backtest rows of one origin (series x h) with every method's forecast."""
    panel, n = ctx.panel, ctx.panel.n_series
    frame = pd.DataFrame(
        {
            "origin": origin,
            "series": np.repeat(np.arange(n), h_max),
            "geo_level": np.repeat(panel.keys["geo_level"].to_numpy(), h_max),
            "geo": np.repeat(panel.keys["geo"].to_numpy(), h_max),
            "h": np.tile(np.arange(1, h_max + 1), n),
            "bucket": np.tile(buckets_of(panel.freq, h_max), n),
            "y": panel.y[:, origin + 1 : origin + 1 + h_max].reshape(-1),
            "scale": np.repeat(mase_scale(panel.y, origin, ctx.spec.season), h_max),
        }
    )
    for name, values in pred.items():
        frame[f"yhat_{name}"] = values.reshape(-1)
    return frame


def available_methods(frame: pd.DataFrame) -> list[str]:
    """Methods with a forecast on every row of ``frame``, in preference order."""
    return [
        m
        for m in METHODS
        if f"yhat_{m}" in frame.columns and bool(np.isfinite(frame[f"yhat_{m}"]).all())
    ]


def metrics(group: pd.DataFrame, column: str) -> dict[str, float]:
    """n, MAE, RMSE, MASE of ``column``, the seasonal naive's MAE and the interval coverage."""
    err = group["y"] - group[column]
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


def performance(frame: pd.DataFrame) -> pd.DataFrame:
    """ml.model_performance rows: per method x geo_level (and 'all'), pooled over horizons.

    ``frame`` holds the assembled forecast as ``yhat_blotter`` with its coverage columns;
    ``blotter`` (Blotter's per-bucket selection) is the selected row.
    """
    rows = []
    methods = ["blotter", *[m for m in METHODS if f"yhat_{m}" in frame.columns]]
    for level, group in [("all", frame), *frame.groupby("geo_level", sort=True)]:
        for method in methods:
            column = f"yhat_{method}"
            if not np.isfinite(group[column]).all():
                continue  # a peer not fitted at this level
            scored = group if method == "blotter" else group.drop(columns=["in_80", "in_95"])
            rows.append(
                {"geo_level": level, "method": method, "is_selected": method == "blotter"}
                | metrics(scored, column)
            )
    return pd.DataFrame(rows)
