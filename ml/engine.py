"""Backtest, select, calibrate and forecast one frequency: a pure function of data + config."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.backtest import performance, run_backtest, select_method, with_coverage
from ml.config import FREQ_SPECS, ForecastConfig
from ml.features import FeatureContext
from ml.intervals import FALLBACK, apply, calibrate
from ml.models import forecast_methods, has_ml_history, reconcile_groups
from ml.panel import Panel

FORECAST_COLUMNS = [
    "freq",
    "geo_level",
    "geo",
    "period_start",
    "yhat",
    "yhat_lower_80",
    "yhat_upper_80",
    "yhat_lower_95",
    "yhat_upper_95",
]
DECIMALS = 4


@dataclass
class FreqResult:
    """Outcome of one frequency.

    Attributes:
        freq: The frequency.
        method: Method that produced the forecasts (gbm, ensemble, seasonal_naive, level).
        forecasts: FORECAST_COLUMNS rows, one per series x future period.
        performance: Backtest metrics per method x geo_level (empty without a backtest).
        train_end: Last complete period used for training (None for an empty panel).
        backtest_origins: Number of backtest origins that were scored.
    """

    freq: str
    method: str
    forecasts: pd.DataFrame
    performance: pd.DataFrame = field(default_factory=pd.DataFrame)
    train_end: pd.Timestamp | None = None
    backtest_origins: int = 0

    def summary(self) -> dict[str, object]:
        """Small JSON-ready summary (method, MASE, coverage) for the registry and CLI."""
        out: dict[str, object] = {"method": self.method, "origins": self.backtest_origins}
        perf = self.performance
        if not perf.empty:
            row = perf[(perf["geo_level"] == "all") & perf["is_selected"]].iloc[0]
            for key in ("mase", "mae", "rmse", "coverage_80", "coverage_95", "n"):
                value = row[key]
                out[key] = None if pd.isna(value) else round(float(value), 4)
            naive = perf[(perf["geo_level"] == "all") & (perf["method"] == "seasonal_naive")]
            out["mase_seasonal_naive"] = round(float(naive["mase"].iloc[0]), 4)
        return out


def default_method(panel: Panel) -> str:
    """Method for histories too short to backtest: seasonal naive from 2 seasons, else level."""
    return "seasonal_naive" if panel.n_periods >= 2 * FREQ_SPECS[panel.freq].season else "level"


def recent_shift(ctx: FeatureContext, origin: int) -> bool:
    """Whether the level is re-based at ``origin`` for the city (or most series)."""
    keys = ctx.panel.keys["geo_level"].to_numpy()
    city = np.flatnonzero(keys == "city")
    shifted = ctx.shifted[:, origin]
    return bool(shifted[city[0]]) if len(city) == 1 else bool(shifted.mean() >= 0.5)


def forecast_panel(panel: Panel, config: ForecastConfig, horizon: int) -> FreqResult:
    """Backtest every method, keep the best, calibrate its intervals and forecast.

    The forecast starts at the first period after the panel's last (complete) period, and
    the model sees only periods up to it: training max date < forecast min date.
    """
    if panel.n_series == 0 or panel.n_periods == 0:
        return FreqResult(panel.freq, "none", pd.DataFrame(columns=FORECAST_COLUMNS))
    ctx = FeatureContext(panel, config, horizon)
    groups = reconcile_groups(ctx)
    bt = run_backtest(ctx, config, horizon, groups)
    method = select_method(bt) or default_method(panel)
    origin = panel.n_periods - 1
    if recent_shift(ctx, origin) and "yhat_gbm" in bt.columns:
        # Backtest origins before a level shift say little about what works after it, and
        # seasonal naive would repeat pre-shift counts: use the shift-aware model.
        method = "gbm"
    with_gbm = method in ("gbm", "ensemble") and has_ml_history(ctx, origin, horizon)
    preds = forecast_methods(ctx, origin, horizon, config, with_gbm, groups)
    if method not in preds:
        method = default_method(panel)
    yhat = preds[method]
    if bt.empty:
        table = {"*": dict(FALLBACK)}
        perf = pd.DataFrame()
    else:
        table = calibrate(with_coverage(bt, method))
        perf = performance(bt, method)
    n = panel.n_series
    levels = np.repeat(panel.keys["geo_level"].to_numpy(), horizon)
    bands = apply(np.nan_to_num(yhat).reshape(-1), levels, table).round(DECIMALS)
    future = panel.extended_periods(horizon)[panel.n_periods :]
    frame = pd.DataFrame(
        {
            "freq": panel.freq,
            "geo_level": levels,
            "geo": np.repeat(panel.keys["geo"].to_numpy(), horizon),
            "period_start": np.tile(future.to_numpy(), n),
        }
    )
    forecasts = pd.concat([frame, bands], axis=1)[FORECAST_COLUMNS]
    origins = int(bt["origin"].nunique()) if not bt.empty else 0
    return FreqResult(panel.freq, method, forecasts, perf, panel.periods[-1], origins)
