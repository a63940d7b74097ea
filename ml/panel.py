"""Count series of one frequency as a dense matrix (series x periods) on a regular grid.

The matrix form makes every feature a vectorised shift of one array, which keeps training on
~50 series x 10 years of days within a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def level_order(keys: pd.DataFrame) -> list[str]:
    """Geography levels as the data has them: ``city`` first, then coarse to fine.

    Levels come from the mart (the source profile decides them: Buffalo's districts and
    neighbourhoods, Chicago's district/ward/community_area/beat), so no list is fixed here;
    coarse to fine = fewer distinct geographies first, ties by name.
    """
    sizes = keys.groupby("geo_level")["geo"].nunique()
    return sorted(sizes.index, key=lambda lvl: (lvl != "city", int(sizes[lvl]), str(lvl)))


def complete_span(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the periods the mart flags complete, from the first to the last of them.

    ``is_complete_period`` (dbt) is true iff a period lies wholly within [first loaded day,
    data_cutoff - reporting_lag_days]: the leading partial period of a backfill and the trailing
    ones not yet fully reported are false. A period counts as complete only when every row of
    it says so. The history ends before the first incomplete period after a complete one, so
    the forecast's horizon 1 is the period right after the last complete period.
    """
    if "is_complete_period" not in frame.columns or frame.empty:
        return frame
    known = frame["is_complete_period"].astype("boolean").fillna(False)  # null: incomplete
    flags = known.groupby(frame["period_start"]).all()
    complete = flags[flags.to_numpy(bool)]
    if complete.empty:
        return frame.iloc[0:0]
    first = complete.index.min()
    gaps = flags[(flags.index > first) & ~flags.to_numpy(bool)]
    end = gaps.index.min() if len(gaps) else None
    keep = frame["period_start"] >= first
    if end is not None:
        keep &= frame["period_start"] < end
    return frame[keep]


def build_panel(counts: pd.DataFrame, freq: str, month_rule: str | int = MONTH_START) -> Panel:
    """Pivot long counts of one frequency into a Panel of complete periods.

    Args:
        counts: Columns period_start, geo_level, geo, incidents and optionally freq and
            is_complete_period. Only the span of complete periods is kept (``complete_span``):
            the forecast starts right after the last complete period.
        freq: The frequency to keep.
        month_rule: Grid rule for monthly data.

    Returns:
        The panel: NaN before a series' first incident, zeros for missing cells after it.
    """
    frame = counts
    if "freq" in frame.columns:
        frame = frame[frame["freq"] == freq]
    frame = frame.assign(period_start=pd.to_datetime(frame["period_start"]).astype("M8[ns]"))
    frame = complete_span(frame)
    if frame.empty:
        empty = pd.DataFrame({"geo_level": pd.Series(dtype=str), "geo": pd.Series(dtype=str)})
        return Panel(freq, empty, pd.DatetimeIndex([]), np.zeros((0, 0)), month_rule)
    wide = frame.pivot_table(
        index=["geo_level", "geo"], columns="period_start", values="incidents", aggfunc="sum"
    )
    grid = grid_between(wide.columns.min(), wide.columns.max(), freq, month_rule)
    wide = wide.reindex(columns=grid)
    keys = wide.index.to_frame(index=False)
    rank = {level: i for i, level in enumerate(level_order(keys))}
    order = sorted(range(len(keys)), key=lambda i: (rank[keys.geo_level[i]], keys.geo[i]))
    keys = keys.iloc[order].reset_index(drop=True)
    y = wide.to_numpy(dtype=float)[order]
    # A series starts at its first incident: the mart zero-fills new geographies back to the
    # first period of data, and those zeros would read as a level shift from nothing.
    # Inside a series' span, missing cells are zeros.
    started = np.cumsum(np.nan_to_num(y) > 0, axis=1) > 0
    y = np.where(started, np.nan_to_num(y), np.nan)
    return Panel(freq, keys, grid, y, month_rule)
