"""Forecasting methods: seasonal naive, recent level, and one global gradient-boosting model.

The main model is direct multi-horizon: one HistGradientBoostingRegressor per frequency with
the horizon ``h`` as a feature, trained on (series, origin, h) rows. Direct (not recursive)
keeps prediction one vectorised call and stops errors compounding over 28 days. The target is
the ratio of the count to the origin's level, fitted with Poisson loss and the level as sample
weight (which is exactly the Poisson likelihood of the count), so the model transfers across
geographies of very different volume and across level shifts.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import ThreadpoolController

from ml.config import FREQ_SPECS, ForecastConfig
from ml.features import FeatureContext
from ml.peers import PEERS, peer_forecasts

# Candidates in preference order (ties go to the earlier one).
OWN_METHODS = ("gbm", "ensemble", "season_trend", "seasonal_naive", "level")
METHODS = OWN_METHODS[:3] + PEERS + OWN_METHODS[3:]
MIN_TRAIN_ROWS = 200


@functools.cache
def _threadpools() -> ThreadpoolController:
    """One controller for every fit and prediction: ``threadpool_limits`` re-scans the loaded
    libraries on each call (~7 ms, ~50-70 calls per run). sklearn's OpenMP runtime, the one
    the model runs on, is loaded by this module's import, so the controller sees it."""
    return ThreadpoolController()


def seasonal_naive(ctx: FeatureContext, origin: int, horizon: int) -> np.ndarray:
    """Last observed value of the same season (e.g. same weekday); level where none exists."""
    y, m = ctx.panel.y, ctx.spec.season
    fallback = level_forecast(ctx, origin, horizon)
    out = np.empty((ctx.panel.n_series, horizon))
    for h in range(1, horizon + 1):
        idx = origin + h - m * math.ceil(h / m)
        col = y[:, idx] if idx >= 0 else np.full(ctx.panel.n_series, np.nan)
        out[:, h - 1] = np.where(np.isnan(col), fallback[:, h - 1], col)
    return out


def level_forecast(ctx: FeatureContext, origin: int, horizon: int) -> np.ndarray:
    """Flat forecast at the (shift-aware, pooled) recent level; mean of what exists for short
    series."""
    lvl = ctx.pooled[:, origin]
    lvl = np.where(np.isnan(lvl), ctx.season_mean[:, origin], lvl)
    return np.repeat(np.nan_to_num(lvl)[:, None], horizon, axis=1)


def training_origins(ctx: FeatureContext, cutoff: int, horizon: int, config: ForecastConfig):
    """Origins used to train a model whose data ends at ``cutoff``, thinned to the row cap.

    For daily data the stride is kept coprime with 7, so every weekday appears at every h.
    """
    first = max(cutoff - ctx.spec.train_window, ctx.spec.level_window - 1)
    n = max(cutoff - first, 0)
    stride = max(1, math.ceil(ctx.panel.n_series * n * horizon / config.max_train_rows))
    if ctx.panel.freq == "daily" and stride % 7 == 0:
        stride += 1
    return np.arange(cutoff - 1, first - 1, -stride)[::-1]


def fit_gbm(
    ctx: FeatureContext, cutoff: int, horizon: int, config: ForecastConfig
) -> HistGradientBoostingRegressor | None:
    """Fit the global model on targets at or before ``cutoff`` (None if too little data)."""
    origins = training_origins(ctx, cutoff, horizon, config)
    onsets = ctx.shift_rows.cutoff(cutoff)
    xs, ys, ws = [], [], []
    for h in range(1, horizon + 1):
        o = origins[origins + h <= cutoff]
        if len(o) == 0:
            continue
        s = np.repeat(np.arange(ctx.panel.n_series), len(o))
        o = np.tile(o, ctx.panel.n_series)
        x, lvl = ctx.rows(s, o, h)
        target = ctx.panel.y[s, o + h]
        keep = (lvl > 0) & np.isfinite(target) & ctx.shift_rows.keep(onsets, s, o, h)
        recency = 0.5 ** ((cutoff - o[keep]) / ctx.spec.halflife)
        xs.append(x[keep])
        ys.append(target[keep] / lvl[keep])
        ws.append(lvl[keep] * recency)
    n_rows = sum(len(v) for v in ys)
    if n_rows < MIN_TRAIN_ROWS:
        return None
    model = HistGradientBoostingRegressor(
        loss="poisson",
        learning_rate=config.learning_rate,
        max_iter=config.max_iter,
        max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf,
        l2_regularization=config.l2_regularization,
        categorical_features=ctx.categorical_mask,
        early_stopping=False,
        random_state=config.random_state,
    )
    x = np.concatenate(xs)
    x[:, np.isnan(x).all(axis=0)] = 0.0  # sklearn's binning fails on an all-missing column
    with _threadpools().limit(limits=config.n_threads, user_api="openmp"):
        model.fit(x, np.concatenate(ys), sample_weight=np.concatenate(ws))
    return model


def predict_gbm(
    model: HistGradientBoostingRegressor, ctx: FeatureContext, origin: int, horizon: int
) -> np.ndarray:
    """Forecasts (series x h) from ``origin``; series without a level get NaN."""
    n = ctx.panel.n_series
    s = np.arange(n)
    o = np.full(n, origin)
    xs, lvls = zip(*(ctx.rows(s, o, h) for h in range(1, horizon + 1)), strict=True)
    with _threadpools().limit(limits=1, user_api="openmp"):
        ratio = model.predict(np.concatenate(xs)).reshape(horizon, n).T
    lvl = np.stack(lvls, axis=1)
    return np.where(lvl > 0, lvl * ratio, np.where(lvl == 0, 0.0, np.nan))


def reconcile_groups(ctx: FeatureContext) -> list[np.ndarray]:
    """Row groups (one per geography level) whose histories sum exactly to the city series."""
    keys = ctx.panel.keys
    city = np.flatnonzero(keys["geo_level"].to_numpy() == "city")
    if len(city) != 1 or ctx.panel.n_periods == 0:
        return []
    city_y = np.nan_to_num(ctx.panel.y[city[0]])
    groups = []
    for level in sorted(set(keys["geo_level"]) - {"city"}):
        rows = np.flatnonzero(keys["geo_level"].to_numpy() == level)
        if np.allclose(np.nansum(ctx.panel.y[rows], axis=0), city_y):
            groups.append(rows)
    return groups


def season_trend(ctx: FeatureContext, origin: int, horizon: int) -> np.ndarray:
    """Level x pooled yearly season x damped trend (x weekday x holidays): ml.structural."""
    s = np.arange(ctx.panel.n_series)
    o = np.full(ctx.panel.n_series, origin)
    ratio = np.stack([ctx.st.ratio(s, o, h) for h in range(1, horizon + 1)], axis=1)
    lvl = ctx.level[:, origin]
    fallback = level_forecast(ctx, origin, horizon)
    return np.where(np.isfinite(lvl)[:, None], lvl[:, None] * ratio, fallback)


def forecast_methods(
    ctx: FeatureContext,
    origin: int,
    horizon: int,
    config: ForecastConfig,
    with_gbm: bool,
    groups: list[np.ndarray],
    peer_rows: np.ndarray | dict[str, np.ndarray] | None = None,
    model: HistGradientBoostingRegressor | None = None,
    peer_fits: dict | None = None,
    forward: bool = False,
) -> dict[str, np.ndarray]:
    """Every method's forecast (series x h) from ``origin`` using data up to it only.

    Peers are NaN outside ``peer_rows``. A geography that has stopped at ``origin``
    (``ml.features.stopped``) gets zeros from every method. The ensemble is the mean of the
    gbm, season_trend and the peers where they exist (forecast combinations are robust at long
    horizons).
    ``model``: a global model already fitted on data up to an origin at or before this one
    (the backtest's short-lead origins reuse it instead of refitting); ``peer_fits`` and
    ``forward``: the peers' fitted models, likewise (``ml.peers.peer_forecasts``).
    """
    out = {
        "seasonal_naive": seasonal_naive(ctx, origin, horizon),
        "level": level_forecast(ctx, origin, horizon),
        "season_trend": season_trend(ctx, origin, horizon),
    }
    if model is None and with_gbm:
        model = fit_gbm(ctx, origin, horizon, config)
    if model is not None:
        gbm = predict_gbm(model, ctx, origin, horizon)
        out["gbm"] = np.where(np.isnan(gbm), out["seasonal_naive"], gbm)
    peers = config.peers_of(ctx.panel.freq)
    if peer_rows is not None and len(peer_rows) and peers:
        out |= peer_forecasts(ctx, origin, horizon, peers, peer_rows, peer_fits, forward)
    gone = ctx.stopped[:, origin]
    if gone.any():  # a stopped geography is forecast as ending, whatever the method
        for pred in out.values():
            pred[gone] = np.where(np.isfinite(pred[gone]), 0.0, np.nan)  # (peers: own rows)
    members = [out[m] for m in ("gbm", "season_trend", *peers) if m in out]
    if len(members) > 1:
        with np.errstate(invalid="ignore"):
            out["ensemble"] = np.nanmean(np.stack(members), axis=0)
    if config.reconcile and groups:
        city = np.flatnonzero(ctx.panel.keys["geo_level"].to_numpy() == "city")[0]
        for name, pred in out.items():
            out[name] = reconcile(pred, city, groups)
    return out


def reconcile(pred: np.ndarray, city: int, groups: list[np.ndarray]) -> np.ndarray:
    """Scale each lower level proportionally so it sums to the city forecast."""
    pred = pred.copy()
    for rows in groups:
        if not np.isfinite(pred[rows]).all() or not np.isfinite(pred[city]).all():
            continue  # a peer fitted on some levels only: nothing to reconcile there
        total = pred[rows].sum(axis=0)
        factor = np.divide(pred[city], total, out=np.ones_like(total), where=total > 0)
        pred[rows] *= factor
    return pred


def has_ml_history(ctx: FeatureContext, origin: int, horizon: int) -> bool:
    """Whether there is enough history before ``origin`` to train the global model."""
    return origin + 1 >= FREQ_SPECS[ctx.panel.freq].min_ml_history + horizon // 2
