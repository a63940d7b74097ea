"""Issue 14 (stress case "a geography that stops"): a geography whose incidents stop is forecast
as ended, also after the level-shift detector's window has passed; a sparse one is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ml_synth import daily_neighbourhood_counts, fct_incident_counts

from ml.config import FREQ_SPECS, ForecastConfig
from ml.engine import forecast_panel
from ml.panel import build_panel


def test_a_long_improbable_run_of_zeros_is_a_stop_and_a_sparse_quiet_spell_is_not() -> None:
    from ml.features import stopped

    rng = np.random.default_rng(0)
    spec = FREQ_SPECS["weekly"]
    busy = rng.poisson(20.0, 200).astype(float)
    gone = busy.copy()
    gone[-30:] = 0  # stopped 30 weeks ago
    pause = busy.copy()
    pause[-5:] = 0  # shorter than the level window: not judged yet
    sparse = rng.poisson(0.2, 200).astype(float)
    sparse[-15:] = 0  # 15 quiet weeks at 0.2 a week: 3 expected, not improbable
    flags = stopped(np.stack([busy, gone, pause, sparse]), spec)
    assert flags[:, -1].tolist() == [False, True, False, False]
    # It holds from the level window on, and not before the stop.
    assert flags[1, -30 + spec.level_window - 1] and not flags[1, -30 + spec.level_window - 2]
    assert not flags[1, :-30].any()


def test_a_stopped_geography_is_forecast_as_ended_with_a_note() -> None:
    """NB00 stops 30 weeks before the end, after the shift detector's 28-week window: before,
    its level fell back to its yearly mean and it was forecast at about half its old rate."""
    daily = daily_neighbourhood_counts(start="2019-01-07", end="2024-06-30", n_neighbourhoods=4)
    stop = pd.Timestamp("2024-06-30") - pd.Timedelta(weeks=30)
    daily.loc[(daily["nb"] == "NB00") & (daily["day"] >= stop), "n"] = 0
    panel = build_panel(fct_incident_counts(daily, partial_last=False), "weekly")
    config = ForecastConfig(horizons={"weekly": 12}, max_iter=10, peer_max_series=1)
    result = forecast_panel(panel, config, 12)
    fc = result.forecasts
    ended = fc[(fc["geo_level"] == "neighborhood") & (fc["geo"] == "NB00")]
    assert len(ended) == 12 and (ended["yhat"] == 0).all()
    others = fc[(fc["geo_level"] == "neighborhood") & (fc["geo"] != "NB00")]
    assert (others["yhat"] > 1).all()  # the others are untouched
    assert any("forecast as ended" in note and "neighborhood/NB00" in note for note in result.notes)
