"""A geography level's yearly season as a smooth curve fitted to years of its history.

The gbm's calendar used to hold the ISO week number, one free value per week that it learnt
from the one or two years its recency weight favours. This is the season it sees instead: per
geography level, the log of the level's total over its trailing-year mean, regressed on two
yearly harmonics over up to five years before the origin (``train_window``). Five numbers fitted
to ≥ 104 weeks: one extreme week moves the curve by about its 1/104 share, and the curve
cannot single out one week. Only periods at or before each row's origin enter its fit
(cumulative sums of the normal equations), so no row sees its own future. For the same reason
the weekly gbm no longer reads single past years either (``year1``, ``year2``: the target
week's centred three-week ratio one and two years back; ``year1_raw``): with them the bench's
extreme week still passed 0.4-0.5 of its dip on. The series' own multi-year season reaches it
through the season_trend path (``ml.structural``: up to five years, pooled by agreement).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.config import FreqSpec

HARMONICS = 2  # yearly and half-yearly: 5 numbers per fit, chosen before measuring
MIN_YEARS = 2  # fewer fitted years: no curve (NaN; the gbm's missing-value branch)


def harmonics(dates: pd.DatetimeIndex, days: int) -> np.ndarray:
    """[1, sin, cos, sin 2, cos 2] of each period's middle day of the year."""
    mid = dates + pd.Timedelta(days=(days - 1) / 2)
    phase = 2 * np.pi * (mid.day_of_year.to_numpy(float) - 1) / (365 + mid.is_leap_year)
    cols = [np.ones(len(dates))]
    for k in range(1, HARMONICS + 1):
        cols += [np.sin(k * phase), np.cos(k * phase)]
    return np.column_stack(cols)


class SmoothSeason:
    """Per geography level and origin, the fitted yearly curve at any target period."""

    def __init__(
        self, y: np.ndarray, codes: np.ndarray, dates: pd.DatetimeIndex, spec: FreqSpec
    ) -> None:
        n_t = y.shape[1]
        self.x = harmonics(dates, 7)  # history and future periods (weekly)
        levels = np.unique(codes).astype(int)
        self.coef = np.full((int(codes.max()) + 1, n_t, self.x.shape[1]), np.nan)
        year, window = spec.year, spec.train_window
        for c in levels:
            total = np.nansum(y[codes == c], axis=0)
            started = np.cumsum(np.isfinite(y[codes == c]).any(axis=0)) > 0
            past = np.full(n_t, np.nan)
            csum = np.concatenate([[0.0], np.cumsum(total)])
            if n_t > year:
                past[year:] = (csum[year:n_t] - csum[: n_t - year]) / year
            ok_from = np.argmax(started) + year if started.any() else n_t
            past[:ok_from] = np.nan
            r = np.log((total + 1.0) / (past + 1.0))
            ok = np.isfinite(r)
            x = self.x[:n_t] * ok[:, None]
            r = np.where(ok, r, 0.0)
            xtx = np.cumsum(x[:, :, None] * x[:, None, :], axis=0)
            xtr = np.cumsum(x * r[:, None], axis=0)
            cnt = np.cumsum(ok)
            lag = np.arange(n_t) - window
            has = lag >= 0
            xtx[has] -= xtx[lag[has]]
            xtr[has] -= xtr[lag[has]]
            cnt = cnt - np.where(has, cnt[np.maximum(lag, 0)], 0)
            fit = cnt >= MIN_YEARS * year
            ridge = 1e-6 * np.eye(self.x.shape[1])
            if fit.any():
                self.coef[c, fit] = np.linalg.solve(xtx[fit] + ridge, xtr[fit][:, :, None])[..., 0]

    def ratio(self, codes: np.ndarray, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        """exp(curve) at target ``d`` for rows of levels ``codes`` at origins ``o``."""
        beta = self.coef[codes.astype(int), o]
        return np.exp((beta[:, 1:] * self.x[d, 1:]).sum(axis=1))
