"""Issue 16 P3: the counts marts built incrementally by period equal a ``--full-refresh``.

Days of the real replay land on the built warehouse (new incidents, revisions, trailing reports),
plus revisions written the way ingestion writes them (changed raw rows in a load of their own)
that hit each case of the incremental design: an incident re-dated into another day, week and
month (its old AND new periods change), one moved to another area, one withdrawn from the counts
(its date removed: records are never deleted, dbt keeps every merged record), a new area (it
needs its whole zero-filled history), an area that loses its last incident, the calendar start
and the first loaded date moving (rows of vanished periods; the edge periods'
is_complete_period), var changes without a new load (data_start and reporting_lag_days flip
flags), and a source profile that drops a geography level. After each build the counts marts
are compared with a ``--full-refresh`` build of the same data with ``EXCEPT ALL`` both ways.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import profile_fixture
from conftest import DEV, LANDED_NEXT_DAY, LANDED_START, dbt, query
from test_incremental_equivalence import MODELS_ONLY, differences, full_refresh_copy, land_day

COUNTS = [(f"{DEV}marts", "fct_incident_counts"), (f"{DEV}marts", "fct_incident_counts_by_type")]
COUNTS_TABLE = f"{DEV}marts.fct_incident_counts"
# The counts marts and what they are built from: the rest of the project (fct_incidents, the
# snapshot, the forecasting marts) does not feed them, and rebuilding it 17 times doubled the
# test's time.
COUNTS_SELECT = ["+fct_incident_counts", "+fct_incident_counts_by_type"]


def revise(db: Path, assignments: str, where: str, params: list[Any] | None = None) -> int:
    """Change raw rows the way ingestion does: in a new load, with a newer ``:updated_at``.

    ``params`` bind the placeholders of ``assignments`` then ``where``. Returns how many rows
    changed (each case must change at least one).
    """
    [(newest, load_id)] = query(
        db, "select max(socrata_updated_at), max(_dlt_load_id) from raw.incidents"
    )
    load = f"{float(load_id) + 1:.6f}"
    [(changed,)] = query(
        db,
        f"update raw.incidents set socrata_updated_at = ?, _dlt_load_id = ?, {assignments} "
        f"where {where}",
        [newest, load, *(params or [])],
    )
    assert changed > 0, f"no raw row matched {where}"
    return changed


def build(db: Path, **kwargs: Any) -> None:
    """An incremental build of the counts marts and their parents (the comparison is the test)."""
    result = dbt(db, select=COUNTS_SELECT, exclude=MODELS_ONLY, **kwargs)
    assert result.success, result.failing_nodes


def assert_equals_full_refresh(db: Path, tmp: Path, **kwargs: Any) -> None:
    full = full_refresh_copy(db, tmp, select=COUNTS_SELECT, **kwargs)
    assert differences(db, full, COUNTS) == {}


def build_and_compare(db: Path, tmp: Path, **kwargs: Any) -> None:
    build(db, **kwargs)
    assert_equals_full_refresh(db, tmp, **kwargs)


def total(db: Path, where: str, params: list[Any]) -> int:
    [(incidents,)] = query(
        db, f"select coalesce(sum(incidents), 0) from {COUNTS_TABLE} where {where}", params
    )
    return int(incidents)


def test_incremental_counts_equal_a_full_refresh(built_copy: Path, tmp_path: Path) -> None:
    db = built_copy
    # The incremental path is taken: with nothing new, a planted weekly value survives (a full
    # rebuild would overwrite it); a planted daily value is what the build compares with, so its
    # day is recomputed and healed.
    # The planted week does not hold the planted day (healing the day recomputes its week).
    [(week, day)] = query(
        db,
        f"select min(period_start) filter (freq = 'weekly' and period_start > (select "
        f"min(period_start) + 7 from {COUNTS_TABLE})), "
        f"min(period_start) filter (freq = 'daily') from {COUNTS_TABLE}",
    )
    planted = "period_start = ? and freq = ? and geo_level = 'city'"
    before = total(db, planted, [week, "weekly"]), total(db, planted, [day, "daily"])
    query(
        db,
        f"update {COUNTS_TABLE} set incidents = incidents + 1000 where {planted}",
        [week, "weekly"],
    )
    query(
        db,
        f"update {COUNTS_TABLE} set incidents = incidents + 1000 where {planted}",
        [day, "daily"],
    )
    build(db)
    assert total(db, planted, [week, "weekly"]) == before[0] + 1000
    assert total(db, planted, [day, "daily"]) == before[1]
    query(
        db,
        f"update {COUNTS_TABLE} set incidents = incidents - 1000 where {planted}",
        [week, "weekly"],
    )
    assert_equals_full_refresh(db, tmp_path / "unchanged")

    # The next day from the replay, a re-dated, a moved and a withdrawn incident.
    land_day(db, LANDED_NEXT_DAY)
    [(early, late_case, area, other_area)] = query(
        db,
        "select min(case_number), max(case_number), min(neighborhood), max(neighborhood) "
        "from raw.incidents where incident_datetime is not null and neighborhood is not null",
    )
    redated = revise(
        db,
        "incident_datetime = (select incident_datetime from raw.incidents where case_number = ?)",
        "case_number = ?",
        [late_case, early],
    )
    moved = revise(
        db,
        "neighborhood = ?",
        "case_number = (select min(case_number) from raw.incidents where neighborhood = ? "
        "and case_number != ?)",
        [other_area, area, early],
    )
    withdrawn = revise(
        db,
        "incident_datetime = null",
        "case_number = (select max(case_number) from raw.incidents "
        "where incident_datetime is not null and case_number != ?)",
        [late_case],
    )
    assert redated == moved == withdrawn == 1
    build_and_compare(db, tmp_path / "day")

    # A new area: its whole zero-filled history appears.
    revise(
        db,
        "neighborhood = 'Incremental Test Area'",
        "case_number = (select max(case_number) from raw.incidents "
        "where incident_datetime is not null)",
    )
    build_and_compare(db, tmp_path / "new_area")
    periods = query(
        db,
        f"select count(*) from {COUNTS_TABLE} where geo = 'Incremental Test Area' group by freq",
    )
    assert len(periods) == 3 and min(n for (n,) in periods) > 1

    # An area loses its last incident: every row of it goes (the pre-hook rebuilds whole).
    revise(db, "neighborhood = ?", "neighborhood = 'Incremental Test Area'", [area])
    build_and_compare(db, tmp_path / "lost_area")
    assert query(
        db, f"select count(*) from {COUNTS_TABLE} where geo = 'Incremental Test Area'"
    ) == [(0,)]

    # Every incident of the first day moves to the last: the calendar starts later (vanished
    # periods) and the first loaded date moves the edge periods' is_complete_period.
    revise(
        db,
        "incident_datetime = (select incident_datetime from raw.incidents where case_number = ?)",
        "incident_datetime like (select left(min(incident_datetime), 10) from raw.incidents) "
        "|| '%'",
        [late_case],
    )
    build_and_compare(db, tmp_path / "calendar")

    # No new load, another first loaded date, then another reporting lag: only flags flip.
    later_start = {"data_start": (LANDED_START + timedelta(days=9)).isoformat()}
    build_and_compare(db, tmp_path / "start", vars=later_start)
    build_and_compare(db, tmp_path / "lag", vars=later_start | {"reporting_lag_days": 10})

    # The source profile loses a geography level without a new load: its areas vanish.
    profile = profile_fixture.buffalo()
    profile["geographies"] = [g for g in profile["geographies"] if g["level"] != "council_district"]
    profile_fixture.write_profile(db, profile, start_date=LANDED_START)
    build_and_compare(db, tmp_path / "profile", vars=later_start)
    levels = query(db, f"select distinct geo_level from {COUNTS_TABLE} order by all")
    assert ("council_district",) not in levels and ("neighborhood",) in levels


def test_a_stale_complete_flag_fails_the_build(built_copy: Path) -> None:
    """The production check of what the incremental build must re-emit: a period whose
    is_complete_period disagrees with today's data window (as if no build re-emitted it)."""
    check = ["assert_counts_complete_flags_match_window"]
    assert dbt(built_copy, command="test", select=check).success
    [(flipped,)] = query(
        built_copy,
        f"update {COUNTS_TABLE} set is_complete_period = not is_complete_period "
        "where freq = 'monthly' and period_start = "
        f"(select max(period_start) from {COUNTS_TABLE} where freq = 'monthly')",
    )
    assert flipped > 0
    failed = dbt(built_copy, command="test", select=check)
    assert not failed.success
    assert failed.failing_tests == check
