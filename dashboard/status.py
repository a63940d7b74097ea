"""Pure logic behind the headline numbers and the freshness / last-run banner (no Streamlit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

# Data older than this many days before today is stale (the daily run lands yesterday's data).
STALE_AFTER_DAYS = 2
LAST_YEAR = timedelta(days=364)


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


def reference_day(last_data_day: date | None, today: date) -> date:
    """'Yesterday': the last full day, never past the last day of data."""
    yesterday = today - timedelta(days=1)
    return min(last_data_day, yesterday) if last_data_day else yesterday


def _window_sum(daily: pd.DataFrame, end: date, days: int) -> int | None:
    start = end - timedelta(days=days - 1)
    stamps = pd.to_datetime(daily["period_start"]).dt.date
    rows = daily[(stamps >= start) & (stamps <= end)]
    # A window is comparable only when every day of it is present (counts are zero-filled).
    return int(rows["incidents"].sum()) if len(rows) == days else None


def headlines(daily: pd.DataFrame, ref: date) -> list[Headline]:
    """Yesterday, last 7 days and last 28 days, each with the same period last year."""
    windows = (("Yesterday", 1), ("Last 7 days", 7), ("Last 28 days", 28))
    if daily.empty:
        return [Headline(label, None, None) for label, _ in windows]
    return [
        Headline(label, _window_sum(daily, ref, days), _window_sum(daily, ref - LAST_YEAR, days))
        for label, days in windows
    ]


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
        what = "failed" if last["status"] == "failed" else "was abandoned"
        return Banner(
            "error",
            f"Last run {what}: {last['run_id']} at {_when(last['ended_at'])}: {error}. "
            f"{since}. {data}",
        )
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
