"""Count series of one frequency as a dense matrix (series x periods) on a regular grid.

The matrix form makes every feature a vectorised shift of one array, which keeps training on
~50 series x 10 years of days within a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.config import GEO_LEVELS

MONTH_START, MONTH_END = "month_start", "month_end"


@dataclass(frozen=True)
class Panel:
    """Complete periods of every series of one frequency.

    Attributes:
        freq: 'daily', 'weekly' or 'monthly'.
        keys: One row per series with columns geo_level, geo (row i = y[i]).
        periods: The T period starts of the grid (complete periods only).
        y: Counts, shape (S, T); NaN before a series' first incident.
        month_rule: For monthly grids: 'month_start', 'month_end' or a day of month (int).
    """

    freq: str
    keys: pd.DataFrame
    periods: pd.DatetimeIndex
    y: np.ndarray
    month_rule: str | int = MONTH_START

    @property
    def n_series(self) -> int:
        """Number of series."""
        return int(self.y.shape[0])

    @property
    def n_periods(self) -> int:
        """Number of complete periods on the grid."""
        return int(self.y.shape[1])

    def extended_periods(self, extra: int) -> pd.DatetimeIndex:
        """The grid plus ``extra`` future periods that continue it."""
        if self.n_periods == 0:
            return self.periods
        future = future_periods(self.periods[-1], self.freq, extra, self.month_rule)
        return self.periods.append(future)

    def truncated(self, last_index: int) -> Panel:
        """The panel cut after period ``last_index`` (inclusive), e.g. for a backtest origin."""
        return Panel(
            self.freq,
            self.keys,
            self.periods[: last_index + 1],
            self.y[:, : last_index + 1],
            self.month_rule,
        )


def future_periods(
    last: pd.Timestamp, freq: str, n: int, month_rule: str | int = MONTH_START
) -> pd.DatetimeIndex:
    """``n`` period starts after ``last`` on the same grid."""
    if n <= 0:
        return pd.DatetimeIndex([])
    if freq == "daily":
        return pd.date_range(last + pd.Timedelta(days=1), periods=n, freq="D")
    if freq == "weekly":
        return pd.date_range(last + pd.Timedelta(days=7), periods=n, freq="7D")
    if month_rule == MONTH_END:
        return pd.DatetimeIndex([last + pd.offsets.MonthEnd(k) for k in range(1, n + 1)])
    if month_rule == MONTH_START:
        return pd.DatetimeIndex([last + pd.offsets.MonthBegin(k) for k in range(1, n + 1)])
    return pd.DatetimeIndex([last + pd.DateOffset(months=k) for k in range(1, n + 1)])


def month_rule_of(dates: pd.DatetimeIndex) -> str | int | None:
    """The monthly grid rule the dates follow, or None when they follow none."""
    if len(dates) == 0 or bool((dates.day == 1).all()):
        return MONTH_START
    if bool(dates.is_month_end.all()):
        return MONTH_END
    days = set(dates.day.tolist())
    if len(days) == 1 and max(days) <= 28:
        return int(days.pop())
    return None


def grid_between(
    first: pd.Timestamp, last: pd.Timestamp, freq: str, month_rule: str | int
) -> pd.DatetimeIndex:
    """Every grid period from ``first`` to ``last`` inclusive."""
    if freq == "daily":
        return pd.date_range(first, last, freq="D")
    if freq == "weekly":
        return pd.date_range(first, last, freq="7D")
    n = (last.year - first.year) * 12 + (last.month - first.month)
    return pd.DatetimeIndex([first]).append(future_periods(first, freq, n, month_rule))


def _level_rank(level: str) -> int:
    return GEO_LEVELS.index(level) if level in GEO_LEVELS else len(GEO_LEVELS)


def build_panel(counts: pd.DataFrame, freq: str, month_rule: str | int = MONTH_START) -> Panel:
    """Pivot long counts of one frequency into a Panel of complete periods.

    Args:
        counts: Columns period_start, geo_level, geo, incidents and optionally freq and
            is_complete_period. Periods from the first incomplete one on are dropped: the
            forecast starts right after the last complete period.
        freq: The frequency to keep.
        month_rule: Grid rule for monthly data.

    Returns:
        The panel: NaN before a series' first incident, zeros for missing cells after it.
    """
    frame = counts
    if "freq" in frame.columns:
        frame = frame[frame["freq"] == freq]
    frame = frame.assign(period_start=pd.to_datetime(frame["period_start"]).astype("M8[ns]"))
    if "is_complete_period" in frame.columns and len(frame):
        incomplete = frame.loc[~frame["is_complete_period"].astype(bool), "period_start"]
        if len(incomplete):
            frame = frame[frame["period_start"] < incomplete.min()]
    if frame.empty:
        empty = pd.DataFrame({"geo_level": pd.Series(dtype=str), "geo": pd.Series(dtype=str)})
        return Panel(freq, empty, pd.DatetimeIndex([]), np.zeros((0, 0)), month_rule)
    wide = frame.pivot_table(
        index=["geo_level", "geo"], columns="period_start", values="incidents", aggfunc="sum"
    )
    grid = grid_between(wide.columns.min(), wide.columns.max(), freq, month_rule)
    wide = wide.reindex(columns=grid)
    keys = wide.index.to_frame(index=False)
    order = sorted(range(len(keys)), key=lambda i: (_level_rank(keys.geo_level[i]), keys.geo[i]))
    keys = keys.iloc[order].reset_index(drop=True)
    y = wide.to_numpy(dtype=float)[order]
    # A series starts at its first incident: the mart zero-fills new geographies back to the
    # first period of data, and those zeros would read as a level shift from nothing.
    # Inside a series' span, missing cells are zeros.
    started = np.cumsum(np.nan_to_num(y) > 0, axis=1) > 0
    y = np.where(started, np.nan_to_num(y), np.nan)
    return Panel(freq, keys, grid, y, month_rule)


def reporting_lag_days(panel: Panel, max_days: int = 3) -> int:
    """Trailing days whose totals are implausibly low: records not yet published.

    Incidents reach the portal hours to days after they occur, so the last days of a daily
    history are undercounted even when the mart calls them complete. Walking back from the
    end, a day is lagging while its total (the city series, else all series) is below 80 % of
    the same weekday's mean over the 4 weeks before and more than 2 Poisson standard
    deviations under it.
    """
    if panel.freq != "daily" or panel.n_periods < 35:
        return 0
    city = (panel.keys["geo_level"] == "city").to_numpy()
    total = np.nansum(panel.y[city] if city.sum() == 1 else panel.y, axis=0)
    lag = 0
    while lag < max_days:
        t = panel.n_periods - 1 - lag
        expected = float(np.mean(total[[t - 7 * k for k in range(1, 5)]]))
        low = total[t] < 0.8 * expected and total[t] < expected - 2 * np.sqrt(expected)
        if not low:
            break
        lag += 1
    return lag
