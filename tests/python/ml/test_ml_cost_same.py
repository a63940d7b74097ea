"""The forecast step's CPU savings (f27) leave every forecast as it was.

Each saving rests on an equivalence these tests check against the way it was computed before:
the level fallback's trailing mean, the thread limit of the boosted trees, and the final
forecast's peer fits (only the series whose fit can reach a served cell).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ml_synth import replay_city_counts
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_info

from ml import engine, models, peers
from ml.config import ForecastConfig
from ml.engine import _serving_peer_rows, forecast_panel
from ml.features import FeatureContext, trailing_mean
from ml.panel import build_panel


@pytest.fixture(scope="module")
def replay() -> pd.DataFrame:
    return replay_city_counts("2023-01-01", "2025-06-10")


def test_level_fallback_equals_the_mean_of_the_history_up_to_each_origin(
    replay: pd.DataFrame,
) -> None:
    panel = build_panel(replay, "weekly")
    panel.y[3, :10] = np.nan  # a series that starts late: the fallback serves it
    panel.y[5, :60] = np.nan
    ctx = FeatureContext(panel, ForecastConfig(), 12)
    for origin in range(panel.n_periods):
        before = trailing_mean(panel.y[:, : origin + 1], ctx.spec.season, min_frac=0.0)[:, -1]
        lvl = ctx.pooled[:, origin]  # the level the flat forecast starts from (f31)
        expected = np.nan_to_num(np.where(np.isnan(lvl), before, lvl))
        got = models.level_forecast(ctx, origin, 4)
        assert np.array_equal(got, np.repeat(expected[:, None], 4, axis=1)), origin
    # The fallback was exercised: a late series without a level yet, forecast at its mean.
    used = [o for o in range(panel.n_periods) if np.isnan(ctx.pooled[3, o]) and o >= 10]
    assert used and models.level_forecast(ctx, used[0], 1)[3, 0] > 0


def test_boosted_trees_fit_and_predict_on_the_configured_threads(
    replay: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def openmp_threads() -> int:
        return min(i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp")

    class Recording(HistGradientBoostingRegressor):
        def fit(self, X, y, sample_weight=None):  # noqa: ANN001, ANN201, N803
            seen.append(openmp_threads())
            return super().fit(X, y, sample_weight=sample_weight)

        def predict(self, X):  # noqa: ANN001, ANN201, N803
            seen.append(openmp_threads())
            return super().predict(X)

    monkeypatch.setattr(models, "HistGradientBoostingRegressor", Recording)
    before = openmp_threads()
    config = ForecastConfig(horizons={"daily": 7, "weekly": 4, "monthly": 3})
    ctx = FeatureContext(build_panel(replay, "daily"), config, 7)
    model = models.fit_gbm(ctx, ctx.panel.n_periods - 1, 7, config)
    assert model is not None
    models.predict_gbm(model, ctx, ctx.panel.n_periods - 1, 7)
    assert seen == [config.n_threads, 1]
    assert openmp_threads() == before  # the limit is lifted after each call


def test_final_peers_only_where_they_can_reach_a_served_cell() -> None:
    levels = np.array(["city", "police_district", "police_district", "council_district"])
    rows = np.array([0, 1, 2])
    names = ("auto_ets", "auto_theta")
    city_only = {"city": {"1-3m": "auto_theta"}, "police_district": {"1-3m": "season_trend"}}
    got = _serving_peer_rows(levels, city_only, rows, names)
    assert list(got) == ["auto_theta"] and got["auto_theta"].tolist() == [0]
    # The ensemble of a level outside the peers' rows still needs their city row: every level
    # of the ensemble is reconciled to its city row.
    council = {"city": {"1-3m": "gbm"}, "council_district": {"1-3m": "ensemble*0.500+gbm*0.500"}}
    got = _serving_peer_rows(levels, council, rows, names)
    assert {k: v.tolist() for k, v in got.items()} == {"auto_ets": [0], "auto_theta": [0]}
    district = {"police_district": {"1-3m": "auto_ets"}}
    assert _serving_peer_rows(levels, district, rows, names)["auto_ets"].tolist() == [0, 1, 2]
    assert _serving_peer_rows(levels, district, None, names) == {}


@pytest.mark.parametrize("freq", ["weekly", "monthly"])
def test_forecasts_equal_those_with_every_peer_fitted_at_the_final_origin(
    replay: pd.DataFrame, freq: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = build_panel(replay, freq)
    config = ForecastConfig()
    fits: list[str] = []
    real_fit = peers._fit

    def counted(name: str, y: np.ndarray, season: int):  # noqa: ANN202
        fits.append(name)
        return real_fit(name, y, season)

    monkeypatch.setattr(peers, "_fit", counted)
    pruned = forecast_panel(panel, config, config.horizon(freq))
    pruned_fits = len(fits)
    fits.clear()
    # Before f27: every peer on every peer row whenever a peer or the ensemble served a cell.
    monkeypatch.setattr(
        engine,
        "_serving_peer_rows",
        lambda levels, selection, rows, names: {n: rows for n in names},
    )
    every = forecast_panel(panel, config, config.horizon(freq))
    pd.testing.assert_frame_equal(pruned.forecasts, every.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(pruned.performance, every.performance, check_exact=True)
    assert pruned.summary() == every.summary()
    assert pruned_fits <= len(fits)
