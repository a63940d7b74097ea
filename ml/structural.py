"""Level + pooled yearly season + damped trend (+ weekday and holiday factors for days).

The "season_trend" method and the long-range features of the gradient-boosting model. The
yearly seasonal index of a target period is pooled over up to five past years (ratio of sums,
so one noisy year does not define it) and shrunk towards the index of the series' whole
geography level (sparse series borrow the level's shape). The trend is the ratio of the last
two annual means when the year before agrees (``trend``), shrunk towards zero by its Poisson
noise and damped over the horizon, so a city drifting down a few percent a year is followed
without extrapolating a blip or a one-off step. Every value
used for a forecast from origin ``o`` is read from periods ``<= o``.
"""

from __future__ import annotations

import holidays
import numpy as np
import pandas as pd

from ml.features import FeatureContext, trailing_sum_count

YEARS = 5  # past years pooled into the seasonal index
SHRINK_COUNTS = 100.0  # counts at which a series' own seasonal index gets half the weight
TREND_DAMPING = 0.8  # per year: the trend's effect levels off (damped-trend path)
TREND_CLIP = 0.3  # |log growth| per year
HALF = {"daily": 14, "weekly": 2, "monthly": 0}  # half-width of the local seasonal window


def _cumsums(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = ~np.isnan(y)
    zero = np.zeros((y.shape[0], 1))
    csum = np.concatenate([zero, np.cumsum(np.where(valid, y, 0.0), axis=1)], axis=1)
    ccnt = np.concatenate([zero, np.cumsum(valid, axis=1, dtype=float)], axis=1)
    return csum, ccnt


def _window(cs: tuple[np.ndarray, np.ndarray], s, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of ``y[s, lo..hi]`` (inclusive, clipped to the grid; empty if hi < lo)."""
    csum, ccnt = cs
    n = csum.shape[1] - 1
    lo, hi = np.clip(lo, 0, n), np.clip(hi + 1, 0, n)
    hi = np.maximum(hi, lo)
    return csum[s, hi] - csum[s, lo], ccnt[s, hi] - ccnt[s, lo]


def _index_parts(cs, s, t, o, year: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts near ``t - k*year`` and what the annual mean there predicts, summed over k."""
    num = np.zeros(len(s))
    den = np.zeros(len(s))
    for k in range(1, YEARS + 1):
        p = t - k * year
        ok = (p - half >= 0) & (p + half <= o)
        lsum, lcnt = _window(cs, s, p - half, p + half)
        asum, acnt = _window(cs, s, p - year // 2, np.minimum(p + year // 2, o))
        ok &= (lcnt == 2 * half + 1) & (acnt >= 0.75 * year)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.where(ok, asum / acnt * lcnt, 0.0)
        num += np.where(ok, lsum, 0.0)
        den += expected
    return num, den


class SeasonTrend:
    """Precomputed pieces of the season-trend path for one panel (see module docstring)."""

    def __init__(self, ctx: FeatureContext) -> None:
        panel = ctx.panel
        self.ctx = ctx
        self.freq = panel.freq
        self.year = ctx.spec.year
        self.half = HALF[panel.freq]
        y = panel.y
        self.cs = _cumsums(y)
        levels = panel.keys["geo_level"].to_numpy()
        names = sorted(set(levels))
        self.group_of = np.array([names.index(v) for v in levels])
        group_y = np.stack([np.nansum(y[levels == n], axis=0) for n in names]) if len(y) else y
        self.group_cs = _cumsums(group_y)
        n = panel.n_periods
        t = np.arange(n)
        # In-sample index of every period (data up to it) and its trailing mean over the
        # level window: it de-seasonalises the level the forecast starts from.
        s_all = np.repeat(np.arange(panel.n_series), n)
        t_all = np.tile(t, panel.n_series)
        hist = self.index(s_all, t_all, t_all).reshape(panel.n_series, n)
        total, count = trailing_sum_count(hist, ctx.spec.level_window)
        self.level_index = np.where(count > 0, total / np.maximum(count, 1), 1.0)
        # Annual means for the trend.
        self.annual = self._annual(y)
        self.weekday = self._weekday(y) if self.freq == "daily" else None
        self.dates = panel.extended_periods(ctx.max_h)
        self.dows = self.dates.day_of_week.to_numpy()
        self.holiday_name = self._holiday_names() if self.freq == "daily" else None
        self.holiday_factor: dict[str, float] = {}
        self.holiday_cutoff = -1

    def index(self, s: np.ndarray, t: np.ndarray, o: np.ndarray) -> np.ndarray:
        """Yearly seasonal index of period ``t`` for series ``s`` seen from origin ``o``."""
        num, den = _index_parts(self.cs, s, t, o, self.year, self.half)
        gnum, gden = _index_parts(self.group_cs, self.group_of[s], t, o, self.year, self.half)
        with np.errstate(invalid="ignore", divide="ignore"):
            group = np.where(gden > 0, gnum / gden, 1.0)
        out = (num + SHRINK_COUNTS * group) / (den + SHRINK_COUNTS)
        return np.clip(np.nan_to_num(out, nan=1.0), 0.2, 5.0)

    def _annual(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total, count = trailing_sum_count(y, self.year)
        return total, count

    def _weekday(self, y: np.ndarray) -> np.ndarray:
        """Per series, origin and weekday: share of the last 8 weeks' counts, times 7."""
        weeks = 8
        out = np.ones((7,) + y.shape)
        total, _ = trailing_sum_count(y, 7 * weeks)
        gtotal = np.zeros_like(total)
        parts = []
        for r in range(7):  # r = days back from the origin modulo 7
            acc = np.zeros_like(y)
            cnt = np.zeros_like(y)
            for w in range(weeks):
                shifted = np.full_like(y, np.nan)
                lag = r + 7 * w
                if lag < y.shape[1]:
                    shifted[:, lag:] = y[:, : y.shape[1] - lag]
                acc += np.nan_to_num(shifted)
                cnt += ~np.isnan(shifted)
            parts.append((acc, cnt))
        for g in np.unique(self.group_of):
            rows = self.group_of == g
            gtotal[rows] = total[rows].sum(axis=0)
        dows = self.ctx.panel.periods.day_of_week.to_numpy()
        for r, (acc, cnt) in enumerate(parts):
            gacc = np.zeros_like(acc)
            for g in np.unique(self.group_of):
                rows = self.group_of == g
                gacc[rows] = acc[rows].sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                group = np.where(gtotal > 0, 7 * gacc / gtotal, 1.0)
                share = (7 * acc + SHRINK_COUNTS * group) / (total + SHRINK_COUNTS)
            share = np.where(cnt >= weeks, share, 1.0)
            # Weekday of "r days back from origin t" is dows[t] - r.
            dow = (dows - r) % 7
            for d in range(7):
                cols = dow == d
                out[d][:, cols] = share[:, cols]
        return np.clip(out, 0.2, 5.0)

    def _holiday_names(self) -> np.ndarray:
        cfg = self.ctx.config
        years = range(int(self.dates.year.min()) - 1, int(self.dates.year.max()) + 2)
        cal = holidays.country_holidays(cfg.holiday_country, subdiv=cfg.holiday_subdiv, years=years)
        lookup = {pd.Timestamp(d): name for d, name in cal.items()}
        return np.array([lookup.get(d, "") for d in self.dates], dtype=object)

    def _holiday_factors(self, cutoff: int) -> dict[str, float]:
        """Pooled effect of each holiday on all series: its days vs the same weekday +-1 week."""
        if cutoff == self.holiday_cutoff:
            return self.holiday_factor
        total = np.nansum(self.ctx.panel.y, axis=0)
        names = self.holiday_name[: cutoff + 1]
        sums: dict[str, list[float]] = {}
        for t in np.flatnonzero(names != ""):
            if t - 7 < 0 or t + 7 > cutoff:
                continue
            ref = (total[t - 7] + total[t + 7]) / 2
            got = sums.setdefault(str(names[t]), [0.0, 0.0])
            got[0] += total[t]
            got[1] += ref
        self.holiday_factor = {
            k: float(np.clip(v[0] / v[1], 0.3, 3.0)) for k, v in sums.items() if v[1] > 0
        }
        self.holiday_cutoff = cutoff
        return self.holiday_factor

    def trend(self, s: np.ndarray, o: np.ndarray) -> np.ndarray:
        """Log growth per year: the smaller of the last two annual growths when they agree.

        A trend must persist: one step between two years (a new geography, a re-drawn
        boundary) moves one annual ratio, not both, so it does not become a trend. Each
        growth is shrunk towards 0 by its Poisson noise; none after a detected level shift.
        """
        total, count = self.annual
        growths = []
        for k in (0, 1):
            new, old = o - k * self.year, o - (k + 1) * self.year
            ok = (old >= 0) & (count[s, np.maximum(old, 0)] >= 0.9 * self.year)
            ok &= count[s, np.maximum(new, 0)] >= 0.9 * self.year
            a1 = total[s, np.maximum(new, 0)]
            a0 = total[s, np.maximum(old, 0)]
            with np.errstate(invalid="ignore", divide="ignore"):
                g = np.log((a1 + 1.0) / (a0 + 1.0))
                noise = 2.0 * (1.0 / (a1 + 1.0) + 1.0 / (a0 + 1.0))  # Poisson, doubled
                shrink = np.clip(1.0 - noise / np.maximum(g**2, 1e-12), 0.0, 1.0)
            growths.append(np.where(ok, g * shrink, 0.0))
        last, before = growths
        agree = np.sign(last) == np.sign(before)
        g = np.where(agree, np.sign(last) * np.minimum(np.abs(last), np.abs(before)), 0.0)
        g = np.where(self.ctx.shifted[s, o], 0.0, g)
        return np.clip(np.nan_to_num(g), -TREND_CLIP, TREND_CLIP)

    def ratio(self, s: np.ndarray, o: np.ndarray, h: int, cutoff: int | None = None) -> np.ndarray:
        """Forecast / level at origin ``o`` for ``h`` ahead (the path's shape, trend and season)."""
        t = o + h
        idx = self.index(s, t, o) / self.level_index[s, o]
        g = self.trend(s, o)
        x = (h + self.ctx.spec.level_window / 2) / self.year  # years from the level's centre
        damped = (1 - TREND_DAMPING**x) / -np.log(TREND_DAMPING)
        out = idx * np.exp(g * damped)
        if self.weekday is not None:
            out = out * self.weekday[self.dows[t], s, o]
            factors = self._holiday_factors(int(cutoff if cutoff is not None else np.max(o)))
            names = self.holiday_name[t]
            out = out * np.array([factors.get(str(n), 1.0) for n in names])
        return out
