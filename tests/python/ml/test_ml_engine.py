"""Forecast engine: ordered intervals, determinism, no leakage, accuracy, level shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ml_synth import daily_neighbourhood_counts, fct_incident_counts

from ml.config import ForecastConfig
from ml.engine import forecast_panel
from ml.panel import build_panel

BOUNDS = ["yhat_lower_95", "yhat_lower_80", "yhat", "yhat_upper_80", "yhat_upper_95"]


@pytest.fixture(scope="module")
def results(counts: pd.DataFrame) -> dict:
    config = ForecastConfig()
    return {
        freq: forecast_panel(build_panel(counts, freq), config, config.horizon(freq))
        for freq in ("daily", "weekly", "monthly")
    }


def assert_ordered(frame: pd.DataFrame) -> None:
    values = frame[BOUNDS].to_numpy()
    assert np.isfinite(values).all()
    assert (values[:, 0] >= 0).all()
    assert (np.diff(values, axis=1) >= 0).all()


@pytest.mark.parametrize("freq", ["daily", "weekly", "monthly"])
def test_intervals_are_ordered_and_horizon_is_complete(results: dict, freq: str) -> None:
    forecasts = results[freq].forecasts
    assert_ordered(forecasts)
    horizon = ForecastConfig().horizon(freq)
    per_geo = forecasts.groupby(["geo_level", "geo"])["period_start"].nunique()
    assert len(per_geo) == 20 and (per_geo == horizon).all()


def test_forecasts_start_after_the_last_complete_period(
    results: dict, counts: pd.DataFrame
) -> None:
    # History ends on Wednesday 2024-12-18: that week and December are partial.
    starts = {f: pd.Timestamp(r.forecasts["period_start"].min()) for f, r in results.items()}
    assert starts == {
        "daily": pd.Timestamp("2024-12-19"),
        "weekly": pd.Timestamp("2024-12-16"),
        "monthly": pd.Timestamp("2024-12-01"),
    }
    for freq, result in results.items():
        assert result.train_end < starts[freq]  # training max date < forecast min date


@pytest.mark.parametrize("freq", ["daily", "weekly"])
def test_champion_beats_seasonal_naive_mase_below_one(results: dict, freq: str) -> None:
    summary = results[freq].summary()
    assert summary["method"] != "seasonal_naive"
    assert summary["mase"] < 1.0
    assert summary["mase"] < summary["mase_seasonal_naive"]


def test_backtest_coverage_is_calibrated(results: dict) -> None:
    summary = results["daily"].summary()
    assert 0.7 <= summary["coverage_80"] <= 0.9
    assert 0.88 <= summary["coverage_95"] <= 0.99


def test_same_input_same_forecasts(counts: pd.DataFrame, results: dict) -> None:
    again = forecast_panel(build_panel(counts, "weekly"), ForecastConfig(), 12)
    pd.testing.assert_frame_equal(again.forecasts, results["weekly"].forecasts)


def test_no_leakage_future_values_do_not_change_a_backtest_forecast(counts: pd.DataFrame) -> None:
    """Forecasting from a cut panel must ignore whatever comes after the cut."""
    panel = build_panel(counts, "weekly")
    cut = panel.truncated(panel.n_periods - 20)
    config = ForecastConfig(backtest_origins=1)
    base = forecast_panel(cut, config, 12).forecasts
    assert pd.Timestamp(base["period_start"].min()) > cut.periods[-1]
    tampered = build_panel(
        counts.assign(
            incidents=np.where(
                pd.to_datetime(counts["period_start"]) > cut.periods[-1], 10**6, counts["incidents"]
            )
        ),
        "weekly",
    ).truncated(panel.n_periods - 20)
    pd.testing.assert_frame_equal(forecast_panel(tampered, config, 12).forecasts, base)


def test_level_shift_forecast_follows_the_new_level() -> None:
    """Counts drop to 55 % six weeks before the end: forecasts follow the new level."""
    history = fct_incident_counts(
        daily_neighbourhood_counts(
            start="2019-01-01", end="2024-11-30", n_neighbourhoods=6, shift_at="2024-10-15"
        )
    )
    config = ForecastConfig()
    for freq in ("daily", "weekly"):
        panel = build_panel(history, freq)
        city = forecast_panel(panel, config, config.horizon(freq)).forecasts.query(
            "geo_level == 'city'"
        )
        before = np.nanmean(
            panel.y[0, -60 * (7 if freq == "daily" else 1) : -25 * (7 if freq == "daily" else 1)]
        )
        after = panel.y[0, -4:].mean()
        # Forecast mean is near the post-shift level, far from the pre-shift level.
        assert abs(city["yhat"].mean() / after - 1) < 0.25, freq
        assert city["yhat"].mean() < 0.75 * before, freq
        assert_ordered(city)


@pytest.mark.parametrize("n_days", [1, 10, 40, 400])
def test_short_histories_fall_back_gracefully(n_days: int) -> None:
    days = pd.date_range("2024-01-01", periods=n_days, freq="D")
    frame = pd.DataFrame(
        {"period_start": days, "geo_level": "city", "geo": "X", "incidents": np.arange(n_days) % 5}
    )
    result = forecast_panel(build_panel(frame, "daily"), ForecastConfig(), 14)
    assert len(result.forecasts) == 14
    assert_ordered(result.forecasts)
    assert result.method in (
        "level",
        "seasonal_naive",
        "season_trend",
        "gbm",
        "ensemble",
        "blotter",
    )
