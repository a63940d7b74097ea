"""Forecast cost (issue 14 P4, issue 16 P2): the boosted trees are most of a forecast's CPU.

A frequency's forecast fits the global model at most four times (three backtest origins and
the final fit; the short-lead origins reuse them), each with 50 trees at learning rate 0.2:
half the trees of the earlier 100 at 0.1, which Blotter's own backtests of the bench
histories judged equal for the served forecast (``tests.bench.forecast_cost_study``).
"""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from ml import models
from ml.config import ForecastConfig
from ml.engine import forecast_panel
from ml.panel import build_panel

TREES: list[int] = []  # trees of every fit since the test began


class CountingModel(HistGradientBoostingRegressor):
    """The model, recording the trees of every fit in ``TREES``."""

    def fit(self, X, y, sample_weight=None):  # noqa: ANN001, ANN201, N803  (sklearn's signature)
        fitted = super().fit(X, y, sample_weight=sample_weight)
        TREES.append(int(fitted.n_iter_))
        return fitted


def test_a_frequency_fits_at_most_four_models_of_fifty_trees(
    counts: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "HistGradientBoostingRegressor", CountingModel)
    TREES.clear()
    config = ForecastConfig(peers={})
    result = forecast_panel(build_panel(counts, "monthly"), config, config.horizon("monthly"))
    assert result.backtest_origins == 3 and not result.forecasts.empty
    assert 0 < len(TREES) <= 4  # three backtest origins and the final fit
    assert max(TREES) <= 50
