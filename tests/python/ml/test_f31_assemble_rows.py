"""A series a selected method cannot forecast falls back alone, not its whole level (f31).

Issue 14's new-geography stress case, monthly: a peer (AutoETS) is NaN on a history shorter
than ``ml.peers.MIN_POINTS``, so one geography too new for it made ``assemble`` serve the
default (seasonal naive) to every series of its level. At the 2021-12 bench origin the three
other areas' summed absolute error was 384 against AutoTheta's 257 (after the fix: 262)."""

from __future__ import annotations

import numpy as np

from ml.selection import assemble, fell_back

LEVELS = np.array(["city", "area", "area", "area"])


def _preds() -> dict[str, np.ndarray]:
    peer = np.full((4, 3), 10.0)
    peer[3] = np.nan  # the newest area: too short for the peer
    return {
        "auto_ets": peer,
        "season_trend": np.full((4, 3), 20.0),
        "seasonal_naive": np.full((4, 3), 5.0),
    }


def test_only_the_series_without_a_forecast_takes_the_default() -> None:
    selection = {"city": {"1-3m": "season_trend"}, "area": {"1-3m": "auto_ets"}}
    out, served = assemble(_preds(), selection, LEVELS, ["1-3m"] * 3, "seasonal_naive")
    np.testing.assert_allclose(out[1:3], 10.0)  # old code: 5.0 (the default)
    np.testing.assert_allclose(out[3], 5.0)
    assert served["area"]["1-3m"] == "auto_ets"


def test_a_combination_falls_back_per_series_too() -> None:
    pair = "auto_ets*0.500+season_trend*0.500"
    selection = {"city": {"1-3m": "season_trend"}, "area": {"1-3m": pair}}
    out, _ = assemble(_preds(), selection, LEVELS, ["1-3m"] * 3, "seasonal_naive")
    np.testing.assert_allclose(out[1:3], 15.0)
    np.testing.assert_allclose(out[3], 5.0)
    assert np.isfinite(out).all()


def test_a_method_no_series_has_serves_nothing() -> None:
    preds = _preds()
    preds["auto_ets"][:] = np.nan
    selection = {"city": {"1-3m": "season_trend"}, "area": {"1-3m": "auto_ets"}}
    out, served = assemble(preds, selection, LEVELS, ["1-3m"] * 3, "seasonal_naive")
    np.testing.assert_allclose(out[1:], 5.0)
    assert served["area"]["1-3m"] == "seasonal_naive"


def test_the_series_that_fell_back_are_named() -> None:
    selection = {"city": {"1-3m": "season_trend"}, "area": {"1-3m": "auto_ets"}}
    preds = _preds()
    _, served = assemble(preds, selection, LEVELS, ["1-3m"] * 3, "seasonal_naive")
    assert fell_back(preds, served, LEVELS, ["1-3m"] * 3).tolist() == [3]
    preds["auto_ets"][3] = 1.0
    assert fell_back(preds, served, LEVELS, ["1-3m"] * 3).tolist() == []
