"""Pure logic behind the headline numbers and the freshness / last-run banner (no Streamlit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

# Data older than this many days before today is stale (the daily run lands yesterday's data).
STALE_AFTER_DAYS = 2
LAST_YEAR = timedelta(days=364)
WINDOWS = (("Last complete day", 1), ("Last 7 days", 7), ("Last 28 days", 28))


@dataclass(frozen=True)
class Headline:
    """One headline number and the same period a year (52 weeks) earlier."""

    label: str
    value: int | None
    last_year: int | None

    @property
    def delta_pct(self) -> float | None:
        """Change vs last year in percent, or None when there is no comparison."""
        if self.value is None or not self.last_year:
            return None
        return 100.0 * (self.value - self.last_year) / self.last_year


@dataclass(frozen=True)
class Banner:
    """The status line at the top: ``kind`` is error, warning, info or success."""

    kind: str
    message: str


@dataclass(frozen=True)
class Headlines:
    """The headline numbers, all ending on ``ref``: the last complete day of the series.

    The days after ``ref`` are still incomplete (``is_complete_period`` false: reporting lag, or
    the as-of's own day); their incidents so far are shown apart and compared with nothing.
    """

    ref: date | None
    items: list[Headline]
    partial_days: int = 0
    partial_incidents: int = 0


def _window_sum(daily: pd.DataFrame, end: date, days: int) -> int | None:
    start = end - timedelta(days=days - 1)
    rows = daily[(daily["day"] >= start) & (daily["day"] <= end)]
    # Comparable only when every day of the window is published (zero-filled) and complete.
    if len(rows) != days or not rows["is_complete_period"].all():
        return None
    return int(rows["incidents"].sum())


def headlines(daily: pd.DataFrame) -> Headlines:
    """Last complete day, 7 and 28 days, each against the same days 52 weeks earlier.

    Args:
        daily: ``period_start``, ``incidents`` and ``is_complete_period`` of one area's daily
            counts (as published in ``fct_incident_counts``).
    """
    if daily.empty:
        return Headlines(None, [Headline(label, None, None) for label, _ in WINDOWS])
    # Unknown completeness is not complete.
    frame = daily.assign(
        day=pd.to_datetime(daily["period_start"]).dt.date,
        is_complete_period=daily["is_complete_period"].astype("boolean").fillna(False),
    )
    complete = frame.loc[frame["is_complete_period"], "day"]
    if complete.empty:
        ref = None
        items = [Headline(label, None, None) for label, _ in WINDOWS]
        after = frame
    else:
        ref = complete.max()
        items = [
            Headline(
                label, _window_sum(frame, ref, days), _window_sum(frame, ref - LAST_YEAR, days)
            )
            for label, days in WINDOWS
        ]
        after = frame[frame["day"] > ref]
    return Headlines(ref, items, len(after), int(after["incidents"].sum()))


def _when(value: object) -> str:
    if value is None or pd.isna(value):
        return "unknown time"
    return (
        pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
        if pd.Timestamp(value).tzinfo
        else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    )


def banner(runs: pd.DataFrame, last_data_day: date | None, now: datetime | None = None) -> Banner:
    """The most important thing to know about freshness: failed run > stale data > running > ok."""
    now = now or datetime.now(UTC)
    today = now.date()
    if last_data_day is None:
        data = "No incident data published yet."
        stale = True
    else:
        age = (today - last_data_day).days
        data = f"Data through {last_data_day.isoformat()} ({age} day{'s' * (age != 1)} old)."
        stale = age > STALE_AFTER_DAYS
    # An abandoned run (killed before it could record its end) is over, like a failed one:
    # never "in progress".
    finished = (
        runs[runs["status"].isin(["succeeded", "failed", "abandoned"])] if not runs.empty else runs
    )
    last = finished.iloc[0] if not finished.empty else None
    running = runs[runs["status"] == "running"] if not runs.empty else runs
    if last is not None and last["status"] in ("failed", "abandoned"):
        error = str(last.get("error") or "no error recorded").strip().splitlines()[0][:300]
        good = finished[finished["status"] == "succeeded"]
        since = (
            f"Showing what the last successful run published ({_when(good.iloc[0]['ended_at'])})"
            if not good.empty
            else "no successful run yet"
        )
        if last["status"] == "failed":
            what = f"failed: {last['run_id']} at {_when(last['ended_at'])}"
        else:  # a killed run recorded no end: say when it started
            what = f"was abandoned: {last['run_id']} started at {_when(last['started_at'])}"
        return Banner("error", f"Last run {what}: {error}. {since}. {data}")
    if stale:
        return Banner(
            "warning",
            f"Data is stale. {data} The daily run should land yesterday's incidents; "
            "see the run history below.",
        )
    if not running.empty:
        return Banner(
            "info",
            f"A run started at {_when(running.iloc[0]['started_at'])} is in "
            f"progress; the page shows the last published data. {data}",
        )
    if last is None:
        return Banner("info", f"No run recorded in the run ledger yet. {data}")
    return Banner("success", f"Last run succeeded at {_when(last['ended_at'])}. {data}")
