"""The level-shift detector's seasonal factor, shrunk towards its geography level's (f40).

Why: the detector (``ml.features.level_shifts``) tests for a shift on the seasonally adjusted
series ``y / factor``, and re-seasonalises the post-shift mean with the same factor. The factor
of a period is last year's local mean around it over that year's mean (``seasonal_known``).
On a sparse series both are a handful of counts: a Chicago district with ~1 homicide a week
had factors of 0.31-0.71 in the weeks before an origin (the level's: 1.03-1.35), so 3 and 7
homicides read as 4.3 and 10, a shift was found, and the level was re-based to 6.2 a week
against an 8-week mean of 2.6 and an actual 2.1 over the next quarter. A re-based series also
loses its pooled level (``ml.pooled_level``), so the false level served the whole year.

The series of one geography level share much of their season, and the factor of the level's
total (the sum of its series' counts) measures it from all of their counts. Each series'
factor is combined with it by precision: the series' relative gap to the level's factor is
kept with weight tau^2 / (tau^2 + v), v its Poisson variance (1 / the local window's counts
+ 1 / the year's) and tau^2 how far the series really strays from the level's season (its
mean squared gap less its Poisson part, over every period so far; at least 0), as
``ml.pooled_level`` weighs a share. A sparse series takes the level's season; a dense one
whose season differs keeps its own. Nothing is
tuned: every weight is a variance. A level of one series (the city) keeps its own factor.
(f33 shrank each factor towards 1 instead, which also erased real seasons.)
"""

from __future__ import annotations

import numpy as np

from ml.config import FreqSpec


def level_factor(
    y: np.ndarray, spec: FreqSpec, group_of: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per series and period: the seasonal factor (its own ``seasonal_known`` combined with
    its geography level's; its own without ``group_of`` or alone in its level) and whether it
    was known.

    Args:
        y: Counts (series x periods, NaN before a series begins or after it ends).
        spec: The frequency's constants.
        group_of: Geography level (group) index of each series, or None (each series alone).

    Column t reads only periods <= t, as ``seasonal_known`` does.
    """
    from ml.features import seasonal_known, shift_right, trailing_sum_count  # (cycle)

    factor, known = seasonal_known(y, spec)
    if group_of is None:
        return factor, known
    half = {7: 14, 52: 2, 12: 0}.get(spec.season, 0)
    local = shift_right(trailing_sum_count(y, 2 * half + 1)[0], spec.year - half)
    yearly = shift_right(trailing_sum_count(y, spec.year)[0], spec.year - spec.year // 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = 1 / local + 1 / yearly
    for g in np.unique(group_of):
        rows = np.flatnonzero(group_of == g)
        if len(rows) < 2:
            continue
        seen = np.isfinite(y[rows]).any(axis=0)
        total = np.where(seen, np.nansum(y[rows], axis=0), np.nan)[None, :]
        level, level_known = seasonal_known(total, spec)
        both = known[rows] & level_known
        gap = factor[rows] / level - 1
        excess = np.cumsum(np.where(both, gap**2 - var[rows], 0.0), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            tau2 = np.maximum(excess / np.cumsum(both, axis=1), 0.0)
            weight = np.nan_to_num(tau2 / (tau2 + var[rows]))
        mixed = level * (1 + weight * gap)
        factor[rows] = np.where(both, mixed, np.where(level_known, level, factor[rows]))
        known[rows] = known[rows] | level_known
    return factor, known
