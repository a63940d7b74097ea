"""`make bench-forecast` scores a series only at origins where it has begun (issue 14).

With the 2021-12 origin the stress case's new geography (first counts 2022-10) has no history:
every peer is NaN for it, which dropped every peer from its cells ("no peer") in the first run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.config import FREQ_SPECS
from ml.panel import build_panel
from tests.bench import forecast_data
from tests.bench.forecast_eval import begun


def test_begun_needs_an_observed_period_inside_the_training_window() -> None:
    nan = np.nan
    y = np.array(
        [
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],  # observed throughout
            [nan, nan, nan, nan, 0.0, 1.0],  # begins at period 4
            [2.0, nan, nan, nan, nan, nan],  # observed only before a window of 3
            [nan, nan, nan, 0.0, nan, nan],  # one zero inside the window still counts
        ]
    )
    assert begun(y, 3, 3).tolist() == [True, False, False, True]
    assert begun(y, 4, 3).tolist() == [True, True, False, True]
    assert begun(y, 5, 10).tolist() == [True, True, True, True]


def test_the_new_geography_is_scored_only_from_the_origin_after_it_begins() -> None:
    case = next(c for c in forecast_data.stress_cases() if c.name == "stress: new geography")
    for freq in ("weekly", "monthly"):
        full = build_panel(case.counts, freq)
        new = int(np.flatnonzero(full.keys["geo"].to_numpy() == "NEW")[0])
        seen = {}
        for origin in case.origins[freq]:
            idx = int(full.periods.get_loc(origin))
            flags = begun(full.y, idx, FREQ_SPECS[freq].train_window)
            seen[origin.year] = bool(flags[new])
            assert flags[np.arange(full.n_series) != new].all(), f"{freq} {origin}"
        # 2021-12: NEW (first counts 2022-10) does not exist yet; later origins score it.
        assert seen == {2021: False, 2022: True, 2023: True}, freq
        first = full.periods[np.flatnonzero(np.isfinite(full.y[new]))[0]]
        assert pd.Timestamp("2022-09-26") <= first <= pd.Timestamp("2022-10-01"), first
