"""Backtest, select per bucket, calibrate per bucket and forecast one frequency (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ml.backtest import Backtest, metrics, performance, run_backtest
from ml.config import FREQ_SPECS, ForecastConfig, buckets_of
from ml.features import FeatureContext, shifted_level
from ml.intervals import FALLBACK, apply_rows, calibrate_buckets, loo_coverage
from ml.models import forecast_methods, has_ml_history, reconcile, reconcile_groups
from ml.panel import Panel
from ml.peers import peer_rows
from ml.selection import assemble, fell_back, members, select

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
SUMMARY_KEYS = ("mase", "mae", "rmse", "coverage_80", "coverage_95", "n")


@dataclass
class FreqResult:
    """Outcome of one frequency.

    Attributes:
        freq: The frequency.
        method: The method that served every cell, or "blotter" when cells differ.
        forecasts: FORECAST_COLUMNS rows, one per series x future period.
        performance: Backtest metrics per method x geo_level (empty without a backtest).
        train_end: Last complete period used for training (None for an empty panel).
        backtest_origins: Number of backtest origins that were scored.
        short_origins: Number of short-lead backtest origins (``ml.backtest.short_origins``).
        served: Method serving each geo_level x horizon bucket.
        buckets: Backtest metrics per horizon bucket (Blotter's and each method's MAE).
        notes: Human lines for the run summary (e.g. gaps filled, simple methods only).
        filled: Missing input periods counted as zero (forecast-file).
    """

    freq: str
    method: str
    forecasts: pd.DataFrame
    performance: pd.DataFrame = field(default_factory=pd.DataFrame)
    train_end: pd.Timestamp | None = None
    backtest_origins: int = 0
    short_origins: int = 0
    served: dict[str, dict[str, str]] = field(default_factory=dict)
    buckets: dict[str, dict[str, object]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    filled: int = 0

    def summary(self) -> dict[str, object]:
        """JSON-ready summary (method, MASE, coverage, buckets) for the registry and CLI."""
        out: dict[str, object] = {"method": self.method, "origins": self.backtest_origins}
        if self.short_origins:
            out["short_origins"] = self.short_origins
        perf = self.performance
        if not perf.empty:
            row = perf[(perf["geo_level"] == "all") & perf["is_selected"]].iloc[0]
            for key in SUMMARY_KEYS:
                value = row[key]
                out[key] = None if pd.isna(value) else round(float(value), 4)
            naive = perf[(perf["geo_level"] == "all") & (perf["method"] == "seasonal_naive")]
            out["mase_seasonal_naive"] = round(float(naive["mase"].iloc[0]), 4)
        out["serving"] = self.served
        out["buckets"] = self.buckets
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def default_method(panel: Panel) -> str:
    """Method for histories too short to backtest: seasonal naive from 2 seasons, else level."""
    return "seasonal_naive" if panel.n_periods >= 2 * FREQ_SPECS[panel.freq].season else "level"


def recent_shift(ctx: FeatureContext, origin: int, groups: list[np.ndarray] | None = None) -> bool:
    """Whether the level is re-based at ``origin`` for the city (or most series).

    A city's shift is judged on the geographies that go on: with ``groups`` (levels whose
    series sum to the city), the first one's series that ended (stopped, or a level of zero)
    or began inside the shift window are left out and the detector runs again on the sum of
    the rest. A geography that ends or begins moves the city's total, yet every method
    forecasts it on its own (zeros, its own level) and the others' backtest still holds.
    """
    keys = ctx.panel.keys["geo_level"].to_numpy()
    city = np.flatnonzero(keys == "city")
    shifted = ctx.shifted[:, origin]
    if len(city) != 1:
        return bool(shifted.mean() >= 0.5)
    if not shifted[city[0]] or not groups:
        return bool(shifted[city[0]])
    rows, spec = groups[0], ctx.spec
    y = ctx.panel.y[rows, : origin + 1]
    first = np.argmax(np.isfinite(y), axis=1)
    moved = (ctx.level[rows, origin] == 0) | ctx.stopped[rows, origin]  # ended
    moved |= first > origin - (spec.shift_pre + spec.shift_max)  # began
    if not moved.any() or moved.all():
        return True
    rest = np.nansum(y[~moved], axis=0)[None, :]
    return bool(shifted_level(rest, spec, ctx.config)[1][0, -1])


def _assembled(  # noqa: ANN001
    ctx, preds, selection, h, default, groups
) -> tuple[np.ndarray, dict[str, dict[str, str]]]:
    levels = ctx.panel.keys["geo_level"].to_numpy()
    yhat, served = assemble(preds, selection, levels, buckets_of(ctx.panel.freq, h), default)
    if ctx.config.reconcile and groups:
        city = int(np.flatnonzero(levels == "city")[0])
        yhat = reconcile(yhat, city, groups)
    return yhat, served


def _maes(rows: pd.DataFrame, methods: list[str]) -> dict[str, float]:
    return {
        f"mae_{m}": round(float(np.mean(np.abs(rows["y"] - rows[f"yhat_{m}"]))), 4)
        for m in methods
        if np.isfinite(rows[f"yhat_{m}"]).all()
    }


def _bucket_metrics(frame: pd.DataFrame, served) -> dict[str, dict[str, object]]:  # noqa: ANN001
    """Per bucket: Blotter's metrics and each method's MAE, pooled and per geo_level."""
    out: dict[str, dict[str, object]] = {}
    methods = [c[5:] for c in frame.columns if c.startswith("yhat_") and c != "yhat_blotter"]
    for bucket, rows in frame.groupby("bucket", sort=False):
        entry: dict[str, object] = {
            k: round(float(v), 4) for k, v in metrics(rows, "yhat_blotter").items()
        }
        entry |= _maes(rows, methods)
        entry["levels"] = {
            str(level): {"method": served.get(str(level), {}).get(str(bucket))}
            | {k: round(float(v), 4) for k, v in metrics(cell, "yhat_blotter").items()}
            | _maes(cell, methods)
            for level, cell in rows.groupby("geo_level", sort=False)
        }
        out[str(bucket)] = entry
    return out


def _score(ctx, bt: Backtest, selection, default, groups) -> pd.DataFrame:  # noqa: ANN001
    """The backtest with the assembled forecast (yhat_blotter) and its LOO coverage."""
    parts = []
    for preds in bt.preds:
        h = next(iter(preds.values())).shape[1]
        parts.append(_assembled(ctx, preds, selection, h, default, groups)[0].reshape(-1))
    frame = bt.frame.assign(yhat_blotter=np.concatenate(parts))
    frame = frame[np.isfinite(frame["y"])].reset_index(drop=True)
    return loo_coverage(frame.assign(yhat=frame["yhat_blotter"]))


def _serving_peer_rows(  # noqa: ANN001
    levels: np.ndarray, selection, rows: np.ndarray | None, peers: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Per peer, the series whose final fit can reach the served forecast (peers that serve no
    cell are left out: a statsforecast fit is ~0.05-0.2 s per series).

    A peer's rows reach it at the levels where it, or the ensemble (their mean), serves a
    cell, and at the city: reconciliation rescales every level's rows of a method (the
    ensemble's too) to that method's city row.
    """
    if rows is None or not len(rows):
        return {}
    out = {}
    for peer in peers:
        serving = [
            level
            for level, cells in selection.items()
            if any({peer, "ensemble"} & set(members(c)) for c in cells.values())
        ]
        if serving:
            out[peer] = rows[np.isin(levels[rows], [*serving, "city"])]
    return out


def forecast_panel(panel: Panel, config: ForecastConfig, horizon: int) -> FreqResult:
    """Backtest every method, select per level x bucket, calibrate per bucket and forecast.

    The forecast starts at the first period after the panel's last (complete) period, and
    the model sees only periods up to it: training max date < forecast min date.
    """
    if panel.n_series == 0 or panel.n_periods == 0:
        return FreqResult(panel.freq, "none", pd.DataFrame(columns=FORECAST_COLUMNS))
    ctx = FeatureContext(panel, config, horizon)
    groups = reconcile_groups(ctx)
    rows = peer_rows(ctx, config.peer_max_series) if config.peers_of(panel.freq) else None
    bt = run_backtest(ctx, config, horizon, groups, rows)
    origin = panel.n_periods - 1
    levels = panel.keys["geo_level"].to_numpy()
    default = default_method(panel)
    selection = select(bt.scored, list(dict.fromkeys(levels)), recent_shift(ctx, origin, groups))
    used = {m for cells in selection.values() for c in cells.values() for m in members(c)}
    with_gbm = bool(used & {"gbm", "ensemble"}) and has_ml_history(ctx, origin, horizon)
    needed = _serving_peer_rows(levels, selection, rows, config.peers_of(panel.freq))
    final = replace(config, peers={**config.peers, panel.freq: tuple(needed)})
    preds = forecast_methods(ctx, origin, horizon, final, with_gbm, groups, needed or None)
    yhat, served = _assembled(ctx, preds, selection, horizon, default, groups)
    buckets = np.tile(buckets_of(panel.freq, horizon), panel.n_series)
    geo_levels = np.repeat(levels, horizon)
    if bt.empty:
        tables = {"*": {"*": dict(FALLBACK)}}
        perf, bucket_stats, n_origins = pd.DataFrame(), {}, 0
    else:
        scored = _score(ctx, bt, selection, default, groups)
        tables = calibrate_buckets(scored)
        perf = performance(scored)
        bucket_stats, n_origins = _bucket_metrics(scored, served), len(bt.origins)
    bands = apply_rows(np.nan_to_num(yhat).reshape(-1), geo_levels, buckets, tables)
    future = panel.extended_periods(horizon)[panel.n_periods :]
    frame = pd.DataFrame(
        {
            "freq": panel.freq,
            "geo_level": geo_levels,
            "geo": np.repeat(panel.keys["geo"].to_numpy(), horizon),
            "period_start": np.tile(future.to_numpy(), panel.n_series),
        }
    )
    forecasts = pd.concat([frame, bands.round(DECIMALS)], axis=1)[FORECAST_COLUMNS]
    methods = {m for cells in served.values() for m in cells.values()}
    single = methods.pop() if len(methods) == 1 else "blotter"
    method = "blotter" if "*" in single else single  # a weighted combination is Blotter's
    notes = []
    lost = fell_back(preds, served, levels, buckets_of(panel.freq, horizon))
    if len(lost):
        names = ", ".join(f"{levels[i]}/{panel.keys['geo'].iloc[i]}" for i in lost[:5])
        notes.append(
            f"{panel.freq}: {len(lost)} series too short for the method serving their level, "
            f"forecast by {default} instead: {names}{' …' if len(lost) > 5 else ''}"
        )
    gone = np.flatnonzero(ctx.stopped[:, origin])
    if len(gone):
        names = ", ".join(f"{levels[i]}/{panel.keys['geo'].iloc[i]}" for i in gone[:5])
        more = f" and {len(gone) - 5} more" if len(gone) > 5 else ""
        notes.append(
            f"{panel.freq}: {len(gone)} geograph{'y' if len(gone) == 1 else 'ies'} without an "
            f"incident for far longer than their earlier rate allows, forecast as ended "
            f"(zeros): {names}{more}"
        )
    if bt.empty:
        notes.append(
            f"{panel.freq}: {panel.n_periods} complete period(s), too few to backtest: "
            f"{default} forecasts with wide fallback intervals"
        )
    return FreqResult(
        panel.freq, method, forecasts, perf, panel.periods[-1], n_origins, len(bt.short),
        served, bucket_stats, notes,
    )  # fmt: skip
