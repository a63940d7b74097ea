"""Weekday factors of the daily season-trend path: each weekday's share of recent weeks.

Per series, origin and weekday: 7 x that weekday's share of the counts of the last
``weeks`` whole weeks up to the origin, shrunk towards the geography level's shares by
``shrink`` counts. A year-ahead forecast applies the factor at every step, so its noise is
repeated a whole year: 8 weeks hold 8 days of each weekday (a police district's ~80
incidents: ~11 % noise per weekday), while the weekly pattern of incident counts is stable
over years (Prophet fits it on the whole history). ``ForecastConfig.weekday_weeks`` sets the
window; a series needs 8 whole weeks before it gets its own factors (1 before).
"""

from __future__ import annotations

import numpy as np

from ml.features import trailing_sum_count

MIN_WEEKS = 8


def stride_sums(a: np.ndarray, weeks: int) -> np.ndarray:
    """Per row and t: ``a[t] + a[t-7] + ... + a[t-7*(weeks-1)]`` (what exists of it)."""
    n = a.shape[1]
    padded = np.pad(a, ((0, 0), (0, (-n) % 7)))
    c = np.cumsum(padded.reshape(a.shape[0], -1, 7), axis=1).reshape(a.shape[0], -1)[:, :n]
    out = c.copy()
    if 7 * weeks < n:
        out[:, 7 * weeks :] -= c[:, : n - 7 * weeks]
    return out


def weekday_factors(
    y: np.ndarray, group_of: np.ndarray, dows: np.ndarray, weeks: int, shrink: float
) -> np.ndarray:
    """Array (weekday, series, origin) of factors (see module docstring); ``dows``: the
    weekday of each period, ``group_of``: each series' geography level."""
    out = np.ones((7,) + y.shape)
    n = y.shape[1]
    total, _ = trailing_sum_count(y, 7 * weeks)
    acc_all = stride_sums(np.nan_to_num(y), weeks)
    cnt_all = stride_sums((~np.isnan(y)).astype(float), weeks)
    groups = [group_of == g for g in np.unique(group_of)]
    gtotal = np.zeros_like(total)
    for rows in groups:
        gtotal[rows] = total[rows].sum(axis=0)
    for r in range(7):  # r = days back from the origin modulo 7
        acc, cnt = np.zeros_like(y), np.zeros_like(y)
        if r < n:  # (a history shorter than a week has nothing r days back)
            acc[:, r:], cnt[:, r:] = acc_all[:, : n - r], cnt_all[:, : n - r]
        gacc = np.zeros_like(acc)
        for rows in groups:
            gacc[rows] = acc[rows].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            group = np.where(gtotal > 0, 7 * gacc / gtotal, 1.0)
            share = (7 * acc + shrink * group) / (total + shrink)
        share = np.where(cnt >= min(weeks, MIN_WEEKS), share, 1.0)
        dow = (dows - r) % 7  # weekday of "r days back from origin t"
        for d in range(7):
            cols = dow == d
            out[d][:, cols] = share[:, cols]
    return np.clip(out, 0.2, 5.0)
