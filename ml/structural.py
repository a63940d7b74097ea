"""Level + pooled yearly season + damped trend (+ weekday and holiday factors for days).

The "season_trend" method and the long-range features of the gradient-boosting model. The
yearly seasonal index of a target period is pooled over up to five past years (ratio of sums,
so one noisy year does not define it), kept only as far as those years agree (``consistent``:
the level's index fades towards flat, a series' own towards the level's, by the year-to-year
spread) and shrunk towards the index of the series' whole geography level (sparse series
borrow the level's shape). The trend is the ratio of the last two annual means when the year
before agrees (``trend``), shrunk towards zero by its Poisson noise and damped over the
horizon. Far leads revert towards the year's level (``ml.anchor``). Every value used for a
forecast from origin ``o`` is read from periods ``<= o``.
"""

from __future__ import annotations

import holidays
import numpy as np
import pandas as pd

from ml.anchor import log_gap, reversion
from ml.features import FeatureContext, trailing_sum_count
from ml.weekday import weekday_factors

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


class _Parts:
    """Per past year k, for every period t: counts in the local window at ``t - k*year`` and
    what the annual mean there predicts for it (centred annual window, or the trailing year
    ending at ``t - k*year`` when the centred one would reach past the origin).

    Precomputed once per panel (matrices of series x periods incl. the horizon), so a lookup
    for any (series, t, h) is a gather; the windows a lookup may use are chosen by h so that
    nothing after the origin ``t - h`` is read.
    """

    def __init__(self, y: np.ndarray, year: int, half: int, width: int) -> None:
        cs = _cumsums(y)
        rows = np.arange(y.shape[0])[:, None]
        self.year, self.half = year, half
        self.num, self.centred, self.trailing = [], [], []
        for k in range(1, YEARS + 1):
            p = np.arange(width)[None, :] - k * year
            lsum, lcnt = _window(cs, rows, p - half, p + half)
            full = (p - half >= 0) & (lcnt == 2 * half + 1)
            with np.errstate(invalid="ignore", divide="ignore"):
                csum, ccnt = _window(cs, rows, p - year // 2, p + year // 2)
                tsum, tcnt = _window(cs, rows, p - year + 1, p)
                cen = np.where(ccnt >= 0.75 * year, csum / ccnt * lcnt, np.nan)
                trl = np.where(tcnt >= 0.75 * year, tsum / tcnt * lcnt, np.nan)
            self.num.append(np.where(full, lsum, np.nan))
            self.centred.append(cen)
            self.trailing.append(trl)

    def usable(self, h: int) -> tuple[bool, ...]:
        """Per past year: may a lookup ``h`` ahead read its local window, its centred one."""
        out: list[bool] = []
        for k in range(1, YEARS + 1):
            out += [h <= k * self.year - self.half, h <= k * self.year - self.year // 2]
        return tuple(out)

    def sums(self, s: np.ndarray, t: np.ndarray, h) -> tuple[np.ndarray, ...]:  # noqa: ANN001
        """Observed and expected counts near ``t - k*year``, summed over the usable k, plus
        the sum of n_k^2 / d_k and the number of years (for the year-to-year spread)."""
        num = np.zeros(np.shape(s))
        den = np.zeros(np.shape(s))
        sq = np.zeros(np.shape(s))
        years = np.zeros(np.shape(s))
        for k in range(1, YEARS + 1):
            local_ok = h <= k * self.year - self.half  # local window ends by the origin
            centred_ok = h <= k * self.year - self.year // 2
            n = self.num[k - 1][s, t]
            d = np.where(centred_ok, self.centred[k - 1][s, t], self.trailing[k - 1][s, t])
            ok = local_ok & np.isfinite(n) & np.isfinite(d) & (d > 0)
            num += np.where(ok, n, 0.0)
            den += np.where(ok, d, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                sq += np.where(ok, n * n / d, 0.0)
            years += ok
        return num, den, sq, years


def consistent(ratio: np.ndarray, target, den, sq, years) -> np.ndarray:  # noqa: ANN001
    """``ratio`` (a pooled Σn/Σd) shrunk towards ``target`` by its year-to-year consistency.

    Each year k says r_k = n_k / d_k; the pooled ratio's squared standard error is the
    d-weighted spread of the r_k around it over (years - 1). Its departure m from ``target``
    keeps the weight m² / (m² + se²): a seasonal bump that shows in every year stays, one that
    comes and goes (a noisy year, or a summer shape that is not stable) fades towards flat.
    Fewer than two years give no spread: the ratio is kept.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.maximum(sq - ratio * ratio * den, 0.0) / den  # Σd(r-R)² / Σd
        se2 = np.where(years >= 2, spread / np.maximum(years - 1, 1), 0.0)
        m2 = (ratio - target) ** 2
        weight = np.where(m2 + se2 > 0, m2 / (m2 + se2), 1.0)
    return target + np.nan_to_num(weight, nan=1.0) * (ratio - target)


class SeasonTrend:
    """Precomputed pieces of the season-trend path for one panel (see module docstring)."""

    def __init__(self, ctx: FeatureContext) -> None:
        panel = ctx.panel
        self.ctx = ctx
        self.freq = panel.freq
        self.year = ctx.spec.year
        self.half = HALF[panel.freq]
        y = panel.y
        levels = panel.keys["geo_level"].to_numpy()
        names = sorted(set(levels))
        self.group_of = np.array([names.index(v) for v in levels])
        group_y = np.stack([np.nansum(y[levels == n], axis=0) for n in names]) if len(y) else y
        width = panel.n_periods + ctx.max_h + 1
        self.own = _Parts(y, self.year, self.half, width)
        self.group = _Parts(group_y, self.year, self.half, width)
        self.width = (panel.n_series, width)
        self.tables: dict[tuple[bool, ...], np.ndarray] = {}
        n = panel.n_periods
        # In-sample index of every period (data up to it) and its trailing mean over the
        # level window: it de-seasonalises the level the forecast starts from.
        s_all = np.repeat(np.arange(panel.n_series), n)
        t_all = np.tile(np.arange(n), panel.n_series)
        hist = self.index(s_all, t_all, t_all).reshape(panel.n_series, n)
        total, count = trailing_sum_count(hist, ctx.spec.level_window)
        self.level_index = np.where(count > 0, total / np.maximum(count, 1), 1.0)
        # Annual means for the trend, and the trend at every (series, origin).
        self.annual = trailing_sum_count(y, self.year)
        self.growth = self.trend(s_all, t_all).reshape(panel.n_series, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            pool = ctx.pooled / ctx.level
        self.pool = np.where(np.isfinite(pool) & (pool > 0), pool, 1.0)
        memory = ctx.config.level_memory
        self.gap = log_gap(ctx, self.level_index, self.annual, self.growth) if memory else None
        self.weekday = None
        if self.freq == "daily":
            dows = panel.periods.day_of_week.to_numpy()
            cfg = ctx.config
            self.weekday = weekday_factors(y, self.group_of, dows, cfg.weekday_weeks, SHRINK_COUNTS)
        self.dates = panel.extended_periods(ctx.max_h)
        self.dows = self.dates.day_of_week.to_numpy()
        self.holiday_name = self._holiday_names() if self.freq == "daily" else None
        self.holiday_factor = np.ones(len(self.dates))
        self.holiday_cutoff = -1

    def index(self, s: np.ndarray, t: np.ndarray, o: np.ndarray) -> np.ndarray:
        """Yearly seasonal index of period ``t`` for series ``s`` seen from origin ``o``.

        It depends on the lead ``t - o`` only through which past years' windows it may read
        (``_Parts.usable``: 2-3 regimes over a year-ahead horizon), so each regime's index of
        every (series, period) is computed once and a lookup is a gather (a 366-day forecast
        asks for it ~7000 times).
        """
        s, t = np.broadcast_arrays(np.asarray(s), np.asarray(t))
        h = np.broadcast_to(t - o, s.shape)
        out = np.empty(s.shape)
        for lead in np.unique(h):
            usable = self.own.usable(int(lead))
            table = self.tables.get(usable)
            if table is None:
                rows = np.repeat(np.arange(self.width[0]), self.width[1])
                cols = np.tile(np.arange(self.width[1]), self.width[0])
                table = self.direct(rows, cols, int(lead)).reshape(self.width)
                self.tables[usable] = table
            mask = h == lead
            out[mask] = table[s[mask], t[mask]]
        return out

    def direct(self, s: np.ndarray, t: np.ndarray, h) -> np.ndarray:  # noqa: ANN001
        """``index`` computed from the years' windows (no table)."""
        num, den, sq, years = self.own.sums(s, t, h)
        gnum, gden, gsq, gyears = self.group.sums(self.group_of[s], t, h)
        with np.errstate(invalid="ignore", divide="ignore"):
            group = np.where(gden > 0, gnum / gden, 1.0)
            group = np.where(gden > 0, consistent(group, 1.0, gden, gsq, gyears), 1.0)
            own = np.where(den > 0, num / den, group)
            own = np.where(den > 0, consistent(own, group, den, sq, years), group)
        out = (den * own + SHRINK_COUNTS * group) / (den + SHRINK_COUNTS)
        return np.clip(np.nan_to_num(out, nan=1.0), 0.2, 5.0)

    def _holiday_names(self) -> np.ndarray:
        cfg = self.ctx.config
        years = range(int(self.dates.year.min()) - 1, int(self.dates.year.max()) + 2)
        cal = holidays.country_holidays(cfg.holiday_country, subdiv=cfg.holiday_subdiv, years=years)
        lookup = {pd.Timestamp(d): name for d, name in cal.items()}
        return np.array([lookup.get(d, "") for d in self.dates], dtype=object)

    def _holiday_factors(self, cutoff: int) -> np.ndarray:
        """Factor of every date: its holiday's pooled effect on all series up to ``cutoff``
        (the holiday's days vs the same weekday a week before and after), else 1."""
        if cutoff == self.holiday_cutoff or self.holiday_name is None:
            return self.holiday_factor  # cached, or not daily: no holidays, factor 1
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
        factor = {k: float(np.clip(v[0] / v[1], 0.3, 3.0)) for k, v in sums.items() if v[1] > 0}
        self.holiday_factor = np.array([factor.get(str(n), 1.0) for n in self.holiday_name])
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
        x = (h + self.ctx.spec.level_window / 2) / self.year  # years from the level's centre
        path = self.growth[s, o] * (1 - TREND_DAMPING**x) / -np.log(TREND_DAMPING)
        if self.gap is not None:  # far leads revert towards the year's level (ml.anchor)
            path = path + reversion(h, self.year, self.ctx.config.level_memory) * self.gap[s, o]
        out = idx * np.exp(path) * self.pool[s, o]
        if self.weekday is not None:
            out = out * self.weekday[self.dows[t], s, o]
            factors = self._holiday_factors(int(cutoff if cutoff is not None else np.max(o)))
            out = out * factors[t]
        return out
