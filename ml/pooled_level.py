"""A sparse series' level, pooled with its share of its geography level's (issue 14, f31).

Why: the level the forecasts start from is the trailing mean over a short window (28 days /
8 weeks / 12 months), so it follows a change within weeks. For a sparse series that window
holds few counts: a Chicago district with 1-2 homicides a week has ~12 in 8 weeks, a
±29 % Poisson error that season_trend and level carried to every horizon.

A second estimate of the same level is the geography level's recent level (the sum of its
series' levels, measured on all their counts) times the series' share of the level's counts
over the last two years. The two are combined by precision: the recent level's relative
variance is 1 / (the counts its window should hold at the share estimate's rate); the share's
is 1 / (the share window's counts) plus τ², how far the series' recent share really strays
from its two-year share, measured on the series' own history (the mean squared relative gap
level / share estimate - 1 over the last two years, less its Poisson part; at least 0). A
series whose share strays no further than its noise takes most of its level from its share;
one whose share moves keeps its recent level. No constant is tuned: every weight is a
variance. (f32: the variance at the draw's own count trusted a window that was high by chance
more than one low by chance, and the log gap of a few counts varies more than 1 / counts, so
τ² came out too large; the relative gap's Poisson part is exact.)

Left alone: a series without a level or with a zero level (ended, silent), one re-based on a
detected shift (its share counts only from the shift on, so it re-enters once that share has
counts), one with under a year of estimates, and a geography level of one series (the city).
The global model keeps the plain level as its target scale; it sees the pooled level through
its season_trend feature (``FeatureContext.pooled`` vs ``level``: on the bench, pooling the
gbm's scale too did worse, 26 / 20 / 44 met / clear / undecidable against 28 / 20 / 42).
"""

from __future__ import annotations

import numpy as np

from ml.config import FreqSpec


def _sums(x: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per row and period t: the sum of ``x[row, start[row, t] .. t]`` (NaN counts 0)."""
    csum = np.concatenate([np.zeros((x.shape[0], 1)), np.nancumsum(x, axis=1)], axis=1)
    return csum[:, 1:] - np.take_along_axis(csum, start, axis=1)


def pooled_level(  # noqa: PLR0913
    y: np.ndarray,
    level: np.ndarray,
    shifted: np.ndarray,
    stopped: np.ndarray,
    group_of: np.ndarray,
    spec: FreqSpec,
) -> tuple[np.ndarray, np.ndarray]:
    """``level`` (series x periods) with each series' level pooled with its share estimate,
    and that share (NaN where it spans under a year of the series' levels, or alone).

    Args:
        y: Counts (series x periods, NaN before a series begins).
        level: The shift-aware trailing level (``ml.features.shifted_level``).
        shifted: Series x periods whose level was re-based on a detected shift.
        stopped: Series x periods that have stopped (``ml.features.stopped``).
        group_of: Geography level (group) index of each series.
        spec: The frequency's constants (level window, year).

    Every value at period t reads only periods <= t.
    """
    window = 2 * spec.year
    ok = np.isfinite(level) & (level > 0) & ~shifted & ~stopped
    # The share counts from the series' last detected shift on (a share from before a shift
    # of the series alone is out of date), at most two years back.
    t = np.arange(y.shape[1])
    trailing = np.broadcast_to(np.maximum(t - window + 1, 0), y.shape)
    last_shift = np.maximum.accumulate(np.where(shifted, t, -1), axis=1)
    start = np.maximum(trailing, last_shift + 1)
    # Counts of the periods where a series has a level (the group's level sums those levels).
    counted = np.where(np.isfinite(level), y, np.nan)
    share_counts = _sums(counted, start)
    share_periods = _sums(np.isfinite(level).astype(float), start)
    group_level = np.full_like(level, np.nan)
    group_counts = np.full_like(level, np.nan)
    for g in np.unique(group_of):
        rows = group_of == g
        if rows.sum() < 2:
            continue
        group_level[rows] = np.nansum(np.where(np.isfinite(level[rows]), level[rows], 0.0), axis=0)
        # The level's counts over the periods each series was counted in (a series that
        # began inside the window has its share of the periods it existed in).
        total = np.nansum(counted[rows], axis=0)
        group_counts[rows] = _sums(np.where(np.isnan(counted[rows]), np.nan, total), start[rows])
    measured = np.isfinite(level) & (level >= 0) & ~shifted & ~stopped
    with np.errstate(invalid="ignore", divide="ignore"):
        share_estimate = share_counts / group_counts * group_level
        var_recent = 1.0 / (share_estimate * spec.level_window)
        var_share = 1.0 / share_counts
        gap = level / share_estimate - 1.0
    finite = np.isfinite(gap) & np.isfinite(var_recent) & np.isfinite(var_share)
    measured &= finite
    ok &= finite
    gap2 = _sums(np.where(measured, gap * gap, 0.0), trailing)
    noise = _sums(np.where(measured, var_recent + var_share, 0.0), trailing)
    n = _sums(measured.astype(float), trailing)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau2 = np.maximum(gap2 - noise, 0.0) / n
        weight = var_recent / (var_recent + var_share + tau2)  # on the share estimate
    weight = np.where(ok & (n >= spec.year) & np.isfinite(weight), weight, 0.0)
    pooled = np.where(weight > 0, (1.0 - weight) * level + weight * share_estimate, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = share_counts / group_counts
    return pooled, np.where((share_periods >= spec.year) & np.isfinite(share), share, np.nan)
