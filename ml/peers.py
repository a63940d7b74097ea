"""Peers on the panel's series: statsforecast AutoETS, AutoTheta, AutoARIMA, SeasonalNaive, and
Prophet.

They are yardsticks in ``make bench-forecast`` and candidates of the per-bucket selection in the
pipeline (Prophet only when configured: ~0.2-0.4 s per series and fit here, plus ~6 s to load).
Each fits one series at a time (AutoETS ~0.2-2 s per series here), so the pipeline fits them
on the first levels in level order (city first) up to ``ForecastConfig.peer_max_series``
series; the other rows are NaN and those levels choose among Blotter's own methods. Histories
are cut to the model's training window.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from ml.features import FeatureContext

PEERS = ("auto_ets", "auto_theta", "auto_arima", "sf_seasonal_naive", "prophet")
PERIOD = {7: "D", 52: "7D", 12: "MS"}  # season length -> grid of the synthetic dates Prophet needs
MIN_POINTS = 8  # shorter histories are not fitted (the peer is NaN there)


class ProphetPeer:
    """Prophet behind statsforecast's ``forecast(y, h, level)`` interface.

    Yearly seasonality (and weekly for daily data); dates are a synthetic grid of the right
    step ending today, which is all Prophet's seasonality needs from them.
    """

    def __init__(self, season: int) -> None:
        self.season = season

    def forecast(self, y: np.ndarray, h: int, level: list[int] | None = None) -> dict:
        import pandas as pd

        for name in ("cmdstanpy", "prophet", "prophet.plot"):  # (plotly is not installed)
            logging.getLogger(name).setLevel(logging.CRITICAL)
        from prophet import Prophet

        step = PERIOD.get(self.season, "D")
        ds = pd.date_range(end="2000-01-01", periods=len(y) + h, freq=step)
        width = (level or [80])[0] / 100
        model = Prophet(
            yearly_seasonality=True,
            weekly_seasonality=self.season == 7,
            daily_seasonality=False,
            interval_width=width,
            uncertainty_samples=200 if level else 0,
        )
        model.fit(pd.DataFrame({"ds": ds[: len(y)], "y": y}))
        out = model.predict(pd.DataFrame({"ds": ds[len(y) :]}))
        result = {"mean": out["yhat"].to_numpy()}
        if level:
            result[f"lo-{level[0]}"] = out["yhat_lower"].to_numpy()
            result[f"hi-{level[0]}"] = out["yhat_upper"].to_numpy()
        return result


def _model(name: str, season: int):  # noqa: ANN202  (statsforecast model object)
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    factories = {
        "auto_ets": lambda: AutoETS(season_length=season),
        "auto_theta": lambda: AutoTheta(season_length=season),
        "auto_arima": lambda: AutoARIMA(season_length=season),
        "sf_seasonal_naive": lambda: SeasonalNaive(season_length=season),
        "prophet": lambda: ProphetPeer(season),
    }
    if name not in factories:
        raise ValueError(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")
    return factories[name]()


def peer_rows(ctx: FeatureContext, max_series: int) -> np.ndarray:
    """Series the peers are fitted on: whole levels in level order while they fit the cap."""
    levels = ctx.panel.keys["geo_level"].to_numpy()
    rows: list[int] = []
    for level in dict.fromkeys(levels):  # panel rows are in level order
        members = np.flatnonzero(levels == level)
        if len(rows) + len(members) > max_series:
            break
        rows.extend(members.tolist())
    return np.array(rows, dtype=int)


def _fit(name: str, y: np.ndarray, season: int):  # noqa: ANN202  (statsforecast model or None)
    """A peer fitted on one series' finite history (None when too short or it fails)."""
    y = y[np.isfinite(y)]
    if len(y) < MIN_POINTS:
        return None
    # Seasonal models need two full seasons; fewer points get the non-seasonal variant.
    m = season if len(y) >= 2 * season + 1 else 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)
            return _model(name, m).fit(y=y.astype(float))
    except Exception:  # noqa: BLE001  (a peer that fails on one series is simply absent there)
        return None
    finally:
        logging.disable(logging.NOTSET)


def _predict(model, y: np.ndarray, horizon: int, forward: bool) -> np.ndarray:  # noqa: ANN001
    """The fitted ``model``'s forecast; ``forward``: its parameters applied to ``y``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)
            if forward:
                out = model.forward(y=y[np.isfinite(y)].astype(float), h=horizon)["mean"]
            else:
                out = model.predict(h=horizon)["mean"]
    except Exception:  # noqa: BLE001
        return np.full(horizon, np.nan)
    finally:
        logging.disable(logging.NOTSET)
    return np.clip(np.asarray(out, dtype=float), 0.0, None)


def fit_one(name: str, y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Point forecast of one series (NaN when it cannot be fitted)."""
    if name == "prophet":  # (no fit / predict split)
        y = y[np.isfinite(y)]
        if len(y) < MIN_POINTS:
            return np.full(horizon, np.nan)
        try:
            out = ProphetPeer(season).forecast(y.astype(float), horizon)["mean"]
        except Exception:  # noqa: BLE001
            return np.full(horizon, np.nan)
        return np.clip(np.asarray(out, dtype=float), 0.0, None)
    model = _fit(name, y, season)
    return np.full(horizon, np.nan) if model is None else _predict(model, y, horizon, False)


def peer_forecasts(
    ctx: FeatureContext,
    origin: int,
    horizon: int,
    names: tuple[str, ...],
    rows: np.ndarray | dict[str, np.ndarray],
    fitted: dict | None = None,
    forward: bool = False,
) -> dict[str, np.ndarray]:
    """Each peer's forecast (series x h) from data up to ``origin``; NaN outside ``rows``.

    Args:
        ctx: The panel's context.
        origin: Last period used.
        horizon: Steps ahead.
        names: Peers.
        rows: Series the peers are fitted on (or per peer, for the final forecast).
        fitted: When given, receives each (peer, series) fitted model; with ``forward`` the
            models already in it (fitted on data up to an earlier origin) are applied to the
            data up to ``origin`` instead of being refitted (statsforecast's ``forward``:
            the backtest's short-lead origins, ~100x cheaper than a fit).
        forward: See ``fitted``.
    """
    out = {}
    start = max(0, origin + 1 - ctx.spec.train_window)
    season = ctx.spec.season
    for name in names:
        pred = np.full((ctx.panel.n_series, horizon), np.nan)
        for s in rows[name] if isinstance(rows, dict) else rows:
            y = ctx.panel.y[s, start : origin + 1]
            if name == "prophet":
                pred[s] = fit_one(name, y, horizon, season)
                continue
            if forward and fitted is not None:
                model = fitted.get((name, int(s)))
                if model is not None:
                    pred[s] = _predict(model, y, horizon, True)
                continue
            model = _fit(name, y, season)
            if fitted is not None:
                fitted[(name, int(s))] = model
            if model is not None:
                pred[s] = _predict(model, y, horizon, False)
        out[name] = pred
    return out
