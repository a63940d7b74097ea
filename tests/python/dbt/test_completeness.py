"""Issue 12 items 3 and 11: the data cutoff and complete periods.

A period is complete only when it lies wholly between the first loaded day and the last day
the reporting lag lets us trust: ``least(data_cutoff, last day with data) - reporting_lag_days``.
No incident after ``data_cutoff`` can be published; accuracy never scores a partial period.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path

from conftest import (
    LANDED_AS_OF,
    LANDED_START,
    PUBLISHED_CUTOFF,
    PUBLISHED_VARS,
    copy_db,
    dbt,
    query,
)

from orchestration.dbt_runner import DbtRunResult

LAG_DAYS = 3  # the default of var reporting_lag_days


def _period_end(freq: str, start: date) -> date:
    if freq == "daily":
        return start
    if freq == "weekly":
        return start + timedelta(days=6)
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def _window(db: Path, data_start: date | None, cutoff: date | None) -> tuple[date, date]:
    """(first loaded day, last day a complete period may end), computed from raw."""
    [(first, last_occurred, last_reported)] = query(
        db,
        "select min(cast(incident_datetime as date)), max(cast(incident_datetime as date)), "
        "max(cast(created_at as date)) from raw.incidents",
    )
    first_loaded = max(first, data_start) if data_start else first
    last_data = max(last_occurred, last_reported)
    return first_loaded, min(cutoff or last_data, last_data) - timedelta(days=LAG_DAYS)


def _flags(db: Path, table: str) -> list[tuple[str, date, bool]]:
    return query(db, f"select distinct freq, period_start, is_complete_period from {table}")


def test_complete_periods_lie_between_first_loaded_day_and_cutoff_minus_lag(
    published: tuple[Path, DbtRunResult],
) -> None:
    db, result = published
    assert result.success, result.failing_tests + result.failing_nodes
    first_loaded, complete_until = _window(db, LANDED_START, PUBLISHED_CUTOFF)
    for flags in (
        _flags(db, "marts.fct_incident_counts"),
        _flags(db, "marts.fct_incident_counts_by_type"),
    ):
        for freq, start, complete in flags:
            expected = start >= first_loaded and _period_end(freq, start) <= complete_until
            assert complete == expected, (freq, start)
    flags = {(f, s): c for f, s, c in _flags(db, "marts.fct_incident_counts")}
    # The cases: the backfill's leading week (one Thursday..Sunday of data) and the
    # as-of day itself are partial; the last day outside the lag allowance is complete.
    assert flags[("weekly", date(2025, 4, 28))] is False
    assert flags[("daily", LANDED_AS_OF)] is False
    assert flags[("daily", complete_until)] is True
    assert flags[("daily", complete_until + timedelta(days=1))] is False


def test_calendar_runs_to_the_cutoff_with_zero_days(published: tuple[Path, DbtRunResult]) -> None:
    db, _ = published
    assert query(db, "select max(date_day) from marts.dim_date") == [(PUBLISHED_CUTOFF,)]
    trailing = query(
        db,
        "select period_start, incidents, is_complete_period from marts.fct_incident_counts "
        "where freq = 'daily' and geo_level = 'city' and period_start > ? order by 1",
        [LANDED_AS_OF],
    )
    assert trailing == [
        (LANDED_AS_OF + timedelta(days=1), 0, False),
        (PUBLISHED_CUTOFF, 0, False),
    ]


def test_plain_build_derives_the_cutoff_from_the_last_day_with_data(
    built: tuple[Path, DbtRunResult],
) -> None:
    db, _ = built
    first_loaded, complete_until = _window(db, None, None)
    assert query(db, "select max(date_day) from dev_marts.dim_date") == [(LANDED_AS_OF,)]
    for freq, start, complete in _flags(db, "dev_marts.fct_incident_counts"):
        expected = start >= first_loaded and _period_end(freq, start) <= complete_until
        assert complete == expected, (freq, start)


def test_incident_after_the_cutoff_fails_an_error_test(
    published: tuple[Path, DbtRunResult], tmp_path: Path
) -> None:
    """A future-dated incident that got through to the marts fails the audit's data test.

    On the published build, with its vars (cutoff ``PUBLISHED_CUTOFF``): the session already
    parsed the project with them, where other vars would cost a whole-project parse.
    """
    name = "assert_no_incident_after_data_cutoff"
    db = copy_db(published[0], tmp_path / "wh")
    assert dbt(db, "test", select=[name], vars=PUBLISHED_VARS).node(name).status == "pass"
    query(
        db,
        "insert into marts.fct_incidents by name select * replace ("
        "repeat('f', 64) as incident_id, date '2027-06-01' as occurred_date) "
        "from marts.fct_incidents limit 1",
    )
    result = dbt(db, "test", select=[name], vars=PUBLISHED_VARS)
    assert (result.node(name).status, result.node(name).rows) == ("fail", 1)
    assert not result.success


def test_a_malformed_cutoff_is_a_clear_error(built_copy: Path) -> None:
    result = dbt(built_copy, "compile", select=["dim_date"], vars={"data_cutoff": "June 10"})
    assert not result.success
    assert "data_cutoff" in (result.error or "") + " ".join(n.message or "" for n in result.nodes)


def test_reporting_lag_allowance_is_checked_against_observed_lag(
    built: tuple[Path, DbtRunResult], built_copy: Path
) -> None:
    name = "assert_reporting_lag_within_allowance"
    assert built[1].node(name).status == "pass"
    # A portal that now reports a fifth of its incidents a week late.
    query(
        built_copy,
        "update raw.incidents set created_at = strftime(cast(incident_datetime as timestamp) "
        "+ interval 7 day, '%Y-%m-%dT%H:%M:%S.000') where hash(case_number) % 5 = 0",
    )
    result = dbt(built_copy, "test", select=[name])
    assert result.node(name).status == "warn"
    assert result.success  # a warning: it tells the user, it does not block publishing


def test_accuracy_never_scores_a_partial_period(built_copy: Path) -> None:
    """A champion's daily forecasts around the cutoff: only complete days get an actual."""
    days = [LANDED_AS_OF - timedelta(days=n) for n in range(6)]
    query(
        built_copy,
        "insert into dev_ml.model_runs (run_id, model_version, status) "
        "values ('run-1', 'v1', 'champion')",
    )
    query(
        built_copy,
        "insert into dev_ml.forecasts select 'run-1', 'v1', 'daily', 'city', 'Buffalo', "
        "unnest(?), 30, 25, 35, 20, 40, timestamp '2025-06-10 12:00:00'",
        [days],
    )
    # One series only: build the accuracy mart and its tests, not the coverage test.
    result = dbt(built_copy, select=["fct_forecast_accuracy"])
    assert result.success, result.failing_tests + result.failing_nodes
    assert result.node("assert_accuracy_scores_complete_periods_only").status == "pass"
    _, complete_until = _window(built_copy, None, None)
    scored = [
        d for (d,) in query(built_copy, "select period_start from dev_marts.fct_forecast_accuracy")
    ]
    assert sorted(scored) == sorted(d for d in days if d <= complete_until)
    assert len(scored) == 3
