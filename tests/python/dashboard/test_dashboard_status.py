"""The banner and the headline numbers: pure logic on hand-made frames (no warehouse)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from dashboard import charts, status


def _runs(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    start = pd.Timestamp("2026-03-02 06:00", tz="UTC")
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "status": state,
                "error": error,
                "started_at": start - pd.Timedelta(days=i),
                "ended_at": start - pd.Timedelta(days=i) + pd.Timedelta(minutes=5),
            }
            for i, (run_id, state, error) in enumerate(rows)
        ]
    )


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("runs", "last_day", "kind", "text"),
    [
        (_runs(("r2", "succeeded", None)), date(2026, 3, 1), "success", "Last run succeeded"),
        (
            _runs(("r2", "failed", "boom\ntrace"), ("r1", "succeeded", None)),
            date(2026, 3, 1),
            "error",
            "Last run failed: r2 at 2026-03-02 06:05 UTC: boom. Showing what the last",
        ),
        (
            _runs(("r2", "abandoned", "killed"), ("r1", "succeeded", None)),
            date(2026, 3, 1),
            "error",
            "Last run was abandoned: r2 started at 2026-03-02 06:00 UTC: killed.",
        ),
        (_runs(("r2", "succeeded", None)), date(2026, 2, 20), "warning", "Data is stale"),
        (
            _runs(("r3", "running", None), ("r2", "succeeded", None)),
            date(2026, 3, 1),
            "info",
            "in progress",
        ),
        (pd.DataFrame(), date(2026, 3, 1), "info", "No run recorded"),
        (pd.DataFrame(), None, "warning", "No incident data published yet"),
    ],
)
def test_banner(runs: pd.DataFrame, last_day: date | None, kind: str, text: str) -> None:
    banner = status.banner(runs, last_day, NOW)
    assert banner.kind == kind
    assert text in banner.message


def _daily(first: str, last: str, complete_from: str, complete_to: str) -> pd.DataFrame:
    """Two incidents a day in 2026, one before; complete between the two given days."""
    days = pd.date_range(first, last, freq="D")
    complete = (days >= pd.Timestamp(complete_from)) & (days <= pd.Timestamp(complete_to))
    return pd.DataFrame(
        {
            "period_start": days,
            "incidents": [2 if d.year == 2026 else 1 for d in days],
            "is_complete_period": complete,
        }
    )


def test_headlines_compare_complete_days_with_the_same_weekdays_last_year() -> None:
    # Loaded from 2025-01-01; the last three days (to the as-of) are inside the reporting lag.
    daily = _daily("2025-01-01", "2026-03-04", "2025-01-01", "2026-03-01")
    heads = status.headlines(daily)
    assert heads.ref == date(2026, 3, 1)
    day, week, month = heads.items
    assert (day.value, day.last_year, day.delta_pct) == (2, 1, 100.0)
    assert (week.value, week.last_year) == (14, 7)
    assert month.value == 56
    # The incomplete days are shown apart, never inside a compared window.
    assert (heads.partial_days, heads.partial_incidents) == (3, 6)


def test_a_partial_day_in_either_window_means_no_comparison() -> None:
    # The first loaded day is partial (a backfill starting mid-day): a year later, the 28 days
    # whose last-year window touches it compare with nothing, not with a short count.
    daily = _daily("2025-02-05", "2026-03-04", "2025-02-06", "2026-03-01")
    day, week, month = status.headlines(daily).items
    assert week.last_year == 7 and month.value == 56
    assert month.last_year is None and month.delta_pct is None
    # Unknown completeness counts as incomplete; no complete day at all: nothing to show.
    unknown = daily.assign(is_complete_period=None)
    heads = status.headlines(unknown)
    assert heads.ref is None and all(item.value is None for item in heads.items)
    assert heads.partial_days == len(daily)


def test_the_forecast_chart_draws_only_flagged_periods_as_complete() -> None:
    actuals = pd.DataFrame(
        {
            "period_start": pd.date_range("2026-01-05", periods=4, freq="W-MON"),
            "incidents": [10, 11, 12, 3],
            "is_complete_period": [False, True, True, None],
        }
    )
    spec = charts.forecast_chart(actuals, pd.DataFrame(), "t").to_dict()
    drawn = [row for rows in spec["datasets"].values() for row in rows if "status" in row]
    assert [row["status"] for row in drawn] == [
        "partial so far",
        "complete",
        "complete",
        "partial so far",
    ]
