"""Far forecasts revert from the recent level towards the trailing year's level.

Why: the season-trend path started from the recent level (28 days / 8 weeks / 12 months,
de-seasonalised) and carried it, times season and trend, a whole year ahead. That level holds
the last few weeks' noise and their transient swings, and a year-ahead forecast repeats them
at every step. Prophet's trend is fitted to the whole history, so a hot month moves it
little: at far leads it forecasts around the long-run line. Here the recent level's log gap to
the trailing year's mean (brought to the recent level's centre by the trend) fades with the
lead, with a half-life of ``ForecastConfig.level_memory`` years: a near forecast starts where
the series is, a far one where its year was.

None after a level shift detected within the year (the year's mean straddles the shift), and
none without a full year of history; nothing after the origin is read.
"""

from __future__ import annotations

import numpy as np

from ml.features import FeatureContext, trailing_sum_count


def log_gap(ctx: FeatureContext, level_index: np.ndarray, annual, growth) -> np.ndarray:  # noqa: ANN001
    """Per series and origin: log(year's mean at the recent level's centre / recent level).

    ``level_index``: the in-sample seasonal index averaged over the level window;
    ``annual``: trailing-year sums and counts; ``growth``: trend in log growth per year.
    0 where the year cannot anchor (no full year, a shift within it, a zero level).
    """
    spec = ctx.spec
    total, count = annual
    with np.errstate(invalid="ignore", divide="ignore"):
        recent = ctx.pooled / level_index
        year_mean = total / count
        # The year's mean is centred half a year back, the recent level half its window back.
        centre_gap = (spec.year - spec.level_window) / 2 / spec.year
        anchor = year_mean * np.exp(growth * centre_gap)
        gap = np.log(anchor / recent)
    recent_shift, _ = trailing_sum_count(ctx.shifted.astype(float), spec.year)
    ok = (count >= spec.year) & (recent_shift == 0) & (recent > 0) & (anchor > 0)
    return np.where(ok & np.isfinite(gap), gap, 0.0)


def reversion(h, year: int, halflife: float) -> np.ndarray:  # noqa: ANN001
    """Share of the gap closed ``h`` periods ahead (0 when ``halflife`` is 0: off)."""
    if halflife <= 0:
        return np.zeros(np.shape(h))
    return 1.0 - 0.5 ** (np.asarray(h, dtype=float) / year / halflife)
