"""The level-shift detector's seasonal factor, taken from the series' geography level (f40).

Why: the detector (``ml.features.level_shifts``) tests for a shift on the seasonally adjusted
series ``y / factor``, and re-seasonalises the post-shift mean with the same factor. The factor
of a period is last year's local mean around it over that year's mean (``seasonal_known``).
On a sparse series both are a handful of counts: a Chicago district with ~1 homicide a week
had factors of 0.31-0.71 in the weeks before an origin (the level's: 1.03-1.35), so 3 and 7
homicides read as 4.3 and 10, a shift was found, and the level was re-based to 6.2 a week
against an 8-week mean of 2.6 and an actual 2.1 over the next quarter. A re-based series also
loses its pooled level (``ml.pooled_level``), so the false level served the whole year.

The series of one geography level share its season far more than their one-year factors show:
the factor of the level's total (the sum of its series' counts) measures the same shape from
all of their counts. Each series of a level of several series is adjusted by it; a level of
one series (the city) keeps its own, which is the same thing. Nothing is tuned: which factor
applies follows from the panel's levels. (f33 shrank each series' factor towards 1 by its
noise instead, which also erased real seasons.)
"""

from __future__ import annotations

import numpy as np

from ml.config import FreqSpec


def level_factor(
    y: np.ndarray, spec: FreqSpec, group_of: np.ndarray | None, seasonal_known
) -> tuple[np.ndarray, np.ndarray]:
    """Per series and period: the seasonal factor (``seasonal_known`` of its geography level's
    total, or its own without ``group_of`` or alone in its level) and whether it was known.

    Args:
        y: Counts (series x periods, NaN before a series begins or after it ends).
        spec: The frequency's constants.
        group_of: Geography level (group) index of each series, or None (each series alone).
        seasonal_known: ``ml.features.seasonal_known`` (passed in: that module imports this).

    Column t reads only periods <= t, as ``seasonal_known`` does.
    """
    factor, known = seasonal_known(y, spec)
    if group_of is None:
        return factor, known
    for g in np.unique(group_of):
        rows = np.flatnonzero(group_of == g)
        if len(rows) < 2:
            continue
        seen = np.isfinite(y[rows]).any(axis=0)
        total = np.where(seen, np.nansum(y[rows], axis=0), np.nan)[None, :]
        f, k = seasonal_known(total, spec)
        factor[rows], known[rows] = f, k
    return factor, known
