"""f38: the global model's training rows that cross a later-detected level shift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.config import ForecastConfig
from ml.features import FeatureContext
from ml.panel import build_panel
from ml.shift_rows import ShiftCrossings

SHIFT = 200  # the week the two areas' rates fall by 40 %


def _context(weeks: int = 300) -> FeatureContext:
    rng = np.random.default_rng(3)
    periods = pd.date_range("2018-01-01", periods=weeks, freq="W-MON")
    t = np.arange(weeks)
    season = 1 + 0.25 * np.sin(2 * np.pi * t / 52)
    rows = []
    for k, rate in enumerate((20.0, 30.0)):
        mu = rate * season * np.where(t >= SHIFT, 0.6, 1.0)
        counts = rng.poisson(mu)
        rows.append(pd.DataFrame({"period": periods, "geo": f"A{k}", "n": counts}))
    areas = pd.concat(rows).assign(geo_level="area")
    city = areas.groupby("period", as_index=False)["n"].sum().assign(geo_level="city", geo="C")
    counts = pd.concat([city, areas]).rename(columns={"period": "period_start", "n": "incidents"})
    return FeatureContext(build_panel(counts.assign(freq="weekly"), "weekly"), ForecastConfig(), 52)


def test_rows_crossing_the_shift_are_found_once_it_is_detected():
    ctx = _context()
    cutoff = SHIFT + 20
    crossings = ShiftCrossings(ctx, cutoff)
    s = np.zeros(3, dtype=int)  # the city
    origins = np.array([SHIFT - 5, SHIFT - 30, SHIFT + 2])
    crossed, size = crossings.crossed(s, origins, 8)
    # Only the row whose origin precedes the onset and whose target follows it crosses it;
    # its size is the fall the detector measured (0.6).
    assert crossed.tolist() == [True, False, False]
    assert abs(size[0] - 0.6) < 0.1 and size[1] == 1.0


def test_a_shift_not_yet_detected_at_the_cutoff_marks_no_row():
    ctx = _context()
    cutoff = SHIFT  # the first post-shift week: nothing can be detected yet
    crossings = ShiftCrossings(ctx, cutoff)
    s = np.arange(3)
    crossed, _ = crossings.crossed(s, np.full(3, SHIFT - 4), 4)
    assert not crossed.any()
