"""A trend fitted over several years' annual means (season_trend's ``trend_years`` > 2).

Why: the default trend is the smaller of the last two annual growths when they agree, so it
rests on three years and is off whenever one year breaks the pattern. Prophet fits its trend
to the whole history. Here the log of each trailing year's mean (at o, o - year, ...; up to
``years`` of them) gets a least-squares line; its slope is shrunk towards 0 by its standard
error (the residual spread, at least the Poisson noise of the annual counts, doubled), so a
trend shows only as far as the years bear it out. Nothing after the origin is read.
"""

from __future__ import annotations

import numpy as np


def fitted_growth(annual, s: np.ndarray, o: np.ndarray, year: int, years: int) -> np.ndarray:  # noqa: ANN001
    """Log growth per year at (series ``s``, origin ``o``); 0 with fewer than 3 full years."""
    total, count = annual
    m: list[np.ndarray] = []
    w: list[np.ndarray] = []
    for k in range(years):
        t = o - k * year
        ok = (t >= 0) & (count[s, np.maximum(t, 0)] >= 0.9 * year)
        if k:  # consecutive years only: a gap ends the run
            ok &= w[-1]
        a = total[s, np.maximum(t, 0)]
        with np.errstate(invalid="ignore", divide="ignore"):
            m.append(
                np.where(ok, np.log((a + 1.0) / np.maximum(count[s, np.maximum(t, 0)], 1)), 0.0)
            )
        w.append(ok)
    ms, ws = np.array(m), np.array(w, dtype=float)  # (years, points)
    x = -np.arange(years, dtype=float)[:, None]
    n = ws.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xbar = (ws * x).sum(axis=0) / n
        mbar = (ws * ms).sum(axis=0) / n
        sxx = (ws * (x - xbar) ** 2).sum(axis=0)
        slope = (ws * (x - xbar) * (ms - mbar)).sum(axis=0) / sxx
        rss = (ws * (ms - mbar - slope * (x - xbar)) ** 2).sum(axis=0)
        resid = rss / np.maximum(n - 2, 1)
        totals = np.array([total[s, np.maximum(o - k * year, 0)] for k in range(years)])
        poisson = 2.0 * (ws / (totals + 1.0)).sum(axis=0) / n
        se2 = np.maximum(resid, poisson) / sxx
        shrink = np.clip(1.0 - se2 / np.maximum(slope**2, 1e-12), 0.0, 1.0)
    return np.where(n >= 3, np.nan_to_num(slope * shrink), 0.0)
