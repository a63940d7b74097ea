"""The stress cases' expected counts that f30's loss study scores forecasts against (issue 14).

``forecast_data.stress_means`` must be the centre the counts are drawn around, on the same grid
as the benchmark's panel, or a study against it would judge methods on a wrong truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.panel import build_panel
from tests.bench import forecast_data
from tests.bench.forecast_loss_study import _truth


def test_the_draws_centre_on_the_expected_counts() -> None:
    means = forecast_data.stress_means()
    cases = forecast_data.stress_cases()
    assert [c.name for c in cases] == [f"stress: {name}" for name in means]
    for case in cases:
        truth = _truth(case, "monthly")
        full = build_panel(case.counts, "monthly")
        assert truth is not None and truth.shape == full.y.shape, case.name
        # Over 8 years each total is within 3 % of its expectation (Poisson-gamma noise on
        # 5,000-40,000 incidents: up to 2 % here); one without the weekday factors (3.6 %) is not.
        for row in range(full.n_series):
            seen = np.isfinite(full.y[row]) & np.isfinite(truth[row])
            drawn, expected = full.y[row, seen].sum(), truth[row, seen].sum()
            assert abs(drawn / expected - 1) < 0.03, (case.name, full.keys.iloc[row].to_dict())


def test_new_and_stopped_geographies_have_no_expected_counts_outside_their_life() -> None:
    means = forecast_data.stress_means()
    days = forecast_data.STRESS_DAYS
    new = pd.Series(means["new geography"]["NEW"], index=days)
    gone = pd.Series(means["geography stops"]["GONE"], index=days)
    assert (new[:"2022-09-30"] == 0).all() and (new["2022-10-01":] > 0).all()
    assert (gone[:"2023-05-31"] > 0).all() and (gone["2023-06-01":] == 0).all()


def test_real_data_has_no_truth() -> None:
    case = forecast_data.Case("replay-like", pd.DataFrame(), {})
    assert _truth(case, "weekly") is None
