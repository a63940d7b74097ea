"""Accuracy on the replay API's own synthetic city (the data `make run` forecasts)."""

from __future__ import annotations

import pandas as pd
import pytest
from ml_synth import replay_city_counts

from ml.config import ForecastConfig
from ml.engine import forecast_panel
from ml.panel import build_panel


@pytest.fixture(scope="module")
def replay_counts() -> pd.DataFrame:
    # make run's default window: BLOTTER_START_DATE 2023-01-01 up to an as-of date.
    return replay_city_counts("2023-01-01", "2025-06-10")


@pytest.mark.parametrize("freq", ["daily", "weekly"])
def test_champion_mase_below_one_on_replay_data(replay_counts: pd.DataFrame, freq: str) -> None:
    config = ForecastConfig()
    result = forecast_panel(build_panel(replay_counts, freq), config, config.horizon(freq))
    summary = result.summary()
    assert summary["mase"] < 1.0
    assert (
        summary["mae"]
        < result.performance.query("geo_level == 'all' and method == 'seasonal_naive'")["mae"].iloc[
            0
        ]
    )
    assert 0.7 <= summary["coverage_80"] <= 0.9 and 0.88 <= summary["coverage_95"] <= 0.99
