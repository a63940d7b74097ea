"""Model-specific features: a robust level per series and origin, and ratios to it.

Every target is ``y[origin + h] / level[origin]`` and every history feature is a ratio to a
level, so the model learns shapes (weekday, season, holidays, horizon) rather than absolute
volumes. When a city's counts shift abruptly, the level re-bases on the post-shift segment
(``shifted_level``) and the forecast follows the new level within a week or two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.calendar import calendar_features
from ml.config import FREQ_SPECS, ForecastConfig, FreqSpec
from ml.level_season import level_factor
from ml.panel import Panel
from ml.pooled_level import pooled_level
from ml.shift_rows import ShiftRows
from ml.smooth_season import SmoothSeason

RATIO_CLIP = 10.0
# A geography has stopped when, besides a whole level window without an incident, the zeros
# would have been this improbable at its rate over the year before them: exp(-10) ~ 5e-5, i.e.
# ten expected incidents without one. (A sparse geography's quiet spell is not a stop.)
STOP_EXPECTED = 10.0


def quantize_ratio(r: np.ndarray) -> np.ndarray:
    """Ratios on a fixed grid of < 255 values (0.02 steps to 3, 0.1 steps to 10).

    HistGradientBoosting bins features with more than 255 distinct values by weighted
    percentiles, which is slow with sample weights; a fixed grid takes its fast exact path
    and costs no accuracy at this resolution.
    """
    r = np.clip(r, 0.0, RATIO_CLIP)
    return np.where(r <= 3.0, np.round(r * 50) / 50, np.round(r * 10) / 10)


def horizon_feature(h: int) -> float:
    """The horizon as the model sees it: exact to 144 steps, then in steps of 2.

    A 366-day request has 366 distinct horizons; HistGradientBoosting bins a feature with
    more than 255 values by weighted percentiles (~1 s per fit here, the slow path that
    ``quantize_ratio`` avoids); 255 values keep its fast exact path at the same resolution
    (its 255 percentile bins were ~1.4 days wide anyway).
    """
    return float(h if h <= 144 else 144 + 2 * math.ceil((h - 144) / 2))


def trailing_sum_count(y: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """NaN-aware sums and counts of ``y[:, t-window+1 : t+1]`` for every t."""
    valid = ~np.isnan(y)
    zero = np.zeros((y.shape[0], 1))
    csum = np.concatenate([zero, np.cumsum(np.where(valid, y, 0.0), axis=1)], axis=1)
    ccnt = np.concatenate([zero, np.cumsum(valid, axis=1, dtype=float)], axis=1)
    t = np.arange(y.shape[1])
    lo = np.maximum(t + 1 - window, 0)
    return csum[:, t + 1] - csum[:, lo], ccnt[:, t + 1] - ccnt[:, lo]


def trailing_mean(y: np.ndarray, window: int, min_frac: float = 0.5) -> np.ndarray:
    """Trailing mean over ``window`` periods; NaN when under ``min_frac`` of them exist."""
    total, count = trailing_sum_count(y, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / count
    return np.where(count >= max(1.0, min_frac * window), out, np.nan)


def shift_right(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` delayed by ``k`` periods along axis 1 (NaN-padded)."""
    out = np.full_like(a, np.nan)
    if k < a.shape[1]:
        out[:, k:] = a[:, : a.shape[1] - k]
    return out


def seasonal_known(y: np.ndarray, spec: FreqSpec) -> tuple[np.ndarray, np.ndarray]:
    """Last year's seasonal factor of each period (1 where there is no year of history), and
    whether it was known (not that fallback).

    factor[t] = mean around t - year / yearly mean around t - year; it reads only data up
    to t - year / 2, so it is known at t.
    """
    half = {7: 14, 52: 2, 12: 0}.get(spec.season, 0)
    local = shift_right(trailing_mean(y, 2 * half + 1, min_frac=1.0), spec.year - half)
    yearly = shift_right(trailing_mean(y, spec.year, min_frac=1.0), spec.year - spec.year // 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = local / yearly
    known = np.isfinite(factor) & (factor > 0)
    return np.where(known, np.clip(factor, 0.2, 5.0), 1.0), known


def last_nonzero(y: np.ndarray) -> np.ndarray:
    """Per series and period: the index of the latest period up to it that was not zero (-1
    when none; a missing value counts as not zero)."""
    t = np.broadcast_to(np.arange(y.shape[1]), y.shape)
    return np.maximum.accumulate(np.where(y == 0, -1, t), axis=1)


def stopped(y: np.ndarray, spec: FreqSpec) -> np.ndarray:
    """Per series and period: the geography has stopped (``STOP_EXPECTED``).

    The rate is the mean of the year up to the last non-zero period before the zeros, so the
    zeros themselves do not dilute it.
    """
    last = last_nonzero(y)
    run = np.arange(y.shape[1])[None, :] - last
    yearly = np.nan_to_num(trailing_mean(y, spec.year))
    before = np.where(last >= 0, np.take_along_axis(yearly, np.maximum(last, 0), axis=1), 0.0)
    return (run >= spec.level_window) & (before * run >= STOP_EXPECTED)


def shifted_level(
    y: np.ndarray, spec: FreqSpec, config: ForecastConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Level per series and period, re-based after a detected abrupt level shift
    (``level_shifts``), and whether it was re-based."""
    level, shifted, _, _ = level_shifts(y, spec, config)
    return level, shifted


def level_shifts(
    y: np.ndarray, spec: FreqSpec, config: ForecastConfig, group_of: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Level per series and period, re-based after a detected abrupt level shift; whether it
    was re-based; the detected shift's onset (first post-shift period, -1 where none); and
    whether the search window was seasonally adjusted throughout (``seasonal_known``).

    The base level is the trailing mean over ``spec.level_window``. Shifts are searched on
    the seasonally adjusted series inside a window of ``shift_pre + shift_max`` periods: for
    each split (last j periods vs the rest) a two-sample z uses one common noise scale
    (the larger of the Poisson variance and the mean absolute seasonal difference), so the
    true change point maximises z. Only splits after which every block (week for daily
    data, else period) lies beyond the midpoint of the two means count. When the best split
    passes ``shift_z`` and ``shift_min_rel``, the level becomes the post-shift mean,
    re-seasonalised to the level window; the factor is the series' level's (``group_of``).
    """
    level = trailing_mean(y, spec.level_window)
    factor, known = level_factor(y, spec, group_of)
    adj = y / factor
    window = spec.shift_pre + spec.shift_max
    lag = spec.season if spec.season == 7 else 1
    total, count = trailing_sum_count(adj, window)
    mad, mad_n = trailing_sum_count(np.abs(adj - shift_right(adj, lag)), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_w = total / count
        sigma2 = np.maximum((0.886 * mad / mad_n) ** 2, mean_w)
    full = count == window
    best_z = np.zeros_like(level)
    best_post = np.full_like(level, np.nan)
    best_j = np.zeros_like(level)
    step = spec.shift_step
    block = trailing_mean(adj, step, min_frac=1.0)  # whole weeks for daily data
    block_max = np.full_like(level, -np.inf)
    block_min = np.full_like(level, np.inf)
    for j in range(step, spec.shift_max + 1, step):
        newest = shift_right(block, j - step)
        block_max, block_min = np.fmax(block_max, newest), np.fmin(block_min, newest)
        if j < spec.shift_min:
            continue
        post_sum, _ = trailing_sum_count(adj, j)
        post = post_sum / j
        pre = (total - post_sum) / (window - j)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.abs(post - pre) / np.sqrt(sigma2 * (1 / j + 1 / (window - j)))
            rel = np.abs(post / pre - 1)
        # Every block after the split must sit on the new side of the midpoint, so one odd
        # last period (a partial week, a data glitch) is not taken for a shift.
        mid = (post + pre) / 2
        consistent = np.where(post < pre, block_max < mid, block_min > mid)
        best = full & consistent & (z > best_z)
        candidate = best & (z > config.shift_z) & (rel > config.shift_min_rel)
        best_post = np.where(candidate, post, np.where(best, np.nan, best_post))
        best_j = np.where(candidate, j, np.where(best, 0, best_j))
        best_z = np.where(best, z, best_z)
    rebased = best_post * trailing_mean(factor, spec.level_window)
    shifted = ~np.isnan(rebased)
    level = np.where(shifted, rebased, level)
    # A series silent for a whole window falls back to its yearly mean (sparse geographies),
    # unless it detectably dropped to zero (a discontinued or renamed geography): a shift to
    # zero while the shift window still holds the old level, a stop once it no longer does
    # (before, the stopped geography came back at its yearly mean once the shift window had
    # passed: ~6 months after the stop for weekly data).
    yearly = trailing_mean(y, spec.year)
    silent = shifted | stopped(y, spec)
    onset = np.where(shifted, np.arange(y.shape[1]) - best_j + 1, -1).astype(int)
    seasoned = trailing_sum_count(known.astype(float), window)[0] == window
    level = np.where((level > 0) | np.isnan(yearly) | silent, level, yearly)
    return level, shifted, onset, seasoned


@dataclass
class FeatureContext:
    """Precomputed arrays of one panel from which rows for any (origin, h) are gathered."""

    panel: Panel
    config: ForecastConfig
    max_h: int

    def __post_init__(self) -> None:
        spec = FREQ_SPECS[self.panel.freq]
        self.spec = spec
        y = self.panel.y
        codes = self.level_codes = self._codes(self.panel.keys["geo_level"])
        self.level, self.shifted, onset, seasoned = level_shifts(y, spec, self.config, codes)
        self.shift_rows = ShiftRows(np.where(seasoned, onset, -1), spec)
        self.stopped = stopped(y, spec)
        self.pooled = pooled_level(y, self.level, self.shifted, self.stopped, codes, spec)[0]
        self.short = trailing_mean(y, spec.short_window)
        # level_forecast's fallback; column t equals that of y[:, : t + 1] (cumsum prefixes)
        self.season_mean = trailing_mean(y, spec.season, min_frac=0.0)
        self.half = {"daily": 3, "weekly": 1, "monthly": 0}[self.panel.freq]
        # Centred mean around each period (used only where the whole window is history).
        self.centred = trailing_mean(y, 2 * self.half + 1)
        if self.panel.freq == "daily":  # mean of the same weekday over the last 4 weeks
            stack = np.stack([shift_right(y, 7 * k) for k in range(4)])
            count = (~np.isnan(stack)).sum(axis=0)
            total = np.where(np.isnan(stack), 0.0, stack).sum(axis=0)
            self.profile = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        dates = self.panel.extended_periods(self.max_h)
        self.calendar = calendar_features(dates, self.panel.freq, self.config)
        geo_keys = self.panel.keys["geo_level"] + "/" + self.panel.keys["geo"]
        # HGB categoricals need < 255 levels.
        self.use_geo = self.config.geo_feature and self.panel.n_series <= 250
        self.geo_codes = self._codes(geo_keys)
        from ml.structural import SeasonTrend  # (it builds on this context)

        self.st = SeasonTrend(self)
        # Weekly: the season from a multi-year curve, not from single past weeks (f34).
        weekly = self.panel.freq == "weekly"
        self.smooth = SmoothSeason(y, codes, dates, spec) if weekly else None

    @staticmethod
    def _codes(values: pd.Series) -> np.ndarray:
        order = {v: i for i, v in enumerate(sorted(set(values)))}
        return values.map(order).to_numpy(float)

    @property
    def feature_names(self) -> list[str]:
        """Column names of ``rows`` output (categoricals last)."""
        names = ["h", "log_level", "short_ratio", "last_ratio"]
        if self.smooth is None:  # the same period one and two years back (not weekly)
            names += ["year1", "year2", "year1_raw"]
        names.append("season_trend")
        if self.smooth is not None:
            names.append("smooth_season")
        if self.panel.freq == "daily":
            names.append("weekday_profile")
        names += list(self.calendar) + ["geo_level"]
        return names + (["geo"] if self.use_geo else [])

    @property
    def categorical_mask(self) -> np.ndarray:
        """Boolean mask of the categorical columns."""
        names = self.feature_names
        return np.array([n in ("geo_level", "geo") for n in names])

    def _take(self, mat: np.ndarray, s: np.ndarray, t: np.ndarray, limit: np.ndarray) -> np.ndarray:
        ok = (t >= 0) & (t <= limit) & (t < mat.shape[1])
        out = np.full(len(s), np.nan)
        out[ok] = mat[s[ok], t[ok]]
        return out

    def rows(self, s: np.ndarray, o: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature matrix and level for series ``s`` at origins ``o`` and horizon ``h``.

        Only values at indices <= the origin are read, so no row sees its own future.
        """
        year, half = self.spec.year, self.half
        lvl = self._take(self.level, s, o, o)
        d = o + h
        with np.errstate(invalid="ignore", divide="ignore"):
            cols = [
                np.full(len(s), horizon_feature(h)),
                np.round(np.clip(np.log1p(lvl), 0.0, 10.0) * 25) / 25,
                self._take(self.short, s, o, o) / lvl,
                self._take(self.panel.y, s, o, o) / lvl,
            ]
            if self.smooth is None:  # weekly reads ml.smooth_season instead of single years
                for k in (1, 2):
                    past_lvl = self._take(self.level, s, o - k * year, o)
                    cols.append(self._take(self.centred, s, d - k * year + half, o) / past_lvl)
                past_lvl = self._take(self.level, s, o - year, o)
                cols.append(self._take(self.panel.y, s, d - year, o) / past_lvl)
            # Pooled multi-year season, damped trend, weekday and holidays (ml.structural).
            cols.append(self.st.ratio(s, o, h))
            if self.smooth is not None:
                cols.append(self.smooth.ratio(self.level_codes[s], o, d))
            if self.panel.freq == "daily":
                last_same_weekday = d - 7 * int(np.ceil(h / 7))
                cols.append(self._take(self.profile, s, last_same_weekday, o) / lvl)
        ratios = quantize_ratio(np.column_stack(cols[2:]))
        cal = np.column_stack([v[d] for v in self.calendar.values()])
        cats = [self.level_codes[s]] + ([self.geo_codes[s]] if self.use_geo else [])
        x = np.column_stack([cols[0], cols[1], ratios, cal, *cats])
        return x, lvl
