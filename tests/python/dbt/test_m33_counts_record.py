"""m33, issue 16: the counts marts recount only the days the changed records touch.

``int_incidents_counted`` records, per mart and record, the day the mart counted it on. A daily
build reads it to find the days a revised record left, recounts the days (and their weeks and
months) the changed records touch, and rewrites the changed records' rows in the mart's own
transaction. These tests show that the short path is taken (a value planted in a day no change
touches survives it, where a recount of all history heals it), that it equals a
``--full-refresh`` build after revisions that move incidents to another day, area and type, late
rows and withdrawn dates, that the comparison catches a wrong record, and that a missing or
inconsistent record, or a changed type map, sends the build down the recount of all history.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conftest import DEV, LANDED_NEXT_DAY, query
from test_counts_incremental import COUNTS, COUNTS_TABLE, build, revise
from test_incremental_equivalence import differences, full_refresh_copy, land_day

BY_TYPE = f"{DEV}marts.fct_incident_counts_by_type"
RECORD = f"{DEV}intermediate.int_incidents_counted"
# A value planted in a row no day's change touches (mid-history; the day's changes hit the
# first and the newest days): a district's daily row (not the city's, whose daily sum the record
# is checked against) and a zero cell of a neighbourhood week (not the level the check sums).
MID_DAY = f"(select min(period_start) + 14 from {COUNTS_TABLE} where freq = 'daily')"
PLANTED_DAY = (
    f"freq = 'daily' and geo_level = 'police_district' and period_start = {MID_DAY} "
    f"and geo = (select min(geo) from {COUNTS_TABLE} where geo_level = 'police_district')"
)
PLANTED_WEEK = (
    f"geo_level = 'neighborhood' and parent_incident_type != 'other (suppressed)' "
    f"and (period_start, geo, parent_incident_type) = (select (min(period_start), min(geo), "
    f"min(parent_incident_type)) from {BY_TYPE} where geo_level = 'neighborhood' "
    f"and incidents = 0 and period_start = (select min(period_start) + 21 from {BY_TYPE}))"
)


def plant(db: Path, amount: int, marts: tuple[str, ...] = (COUNTS_TABLE, BY_TYPE)) -> None:
    """Add ``amount`` to one daily count and/or one zero cell of the breakdown."""
    for table, where in ((COUNTS_TABLE, PLANTED_DAY), (BY_TYPE, PLANTED_WEEK)):
        if table in marts:
            [(changed,)] = query(
                db, f"update {table} set incidents = incidents + ? where {where}", [amount]
            )
            assert changed == 1


def planted(db: Path) -> tuple[int, int]:
    [(day,)] = query(db, f"select incidents from {COUNTS_TABLE} where {PLANTED_DAY}")
    [(week,)] = query(db, f"select incidents from {BY_TYPE} where {PLANTED_WEEK}")
    return int(day), int(week)


def recounts_of_all_history(build_once: Any) -> set[str]:
    """The marts whose build by ``build_once()`` logged a recount of all history (dbt's log)."""
    log = Path(os.environ["DBT_LOG_PATH"]) / "dbt.log"
    start = log.stat().st_size if log.exists() else 0
    build_once()
    with log.open(encoding="utf-8", errors="replace") as lines:
        lines.seek(start)
        logged = [line for line in lines if "recounting all history" in line]
    return {name for _, name in COUNTS if any(f'"{name}":' in line for line in logged)}


def revise_a_day(db: Path) -> str:
    """The next replay day plus a re-dated, a moved, a re-typed and a withdrawn incident, each
    in a load of its own. Returns the re-dated case number."""
    land_day(db, LANDED_NEXT_DAY)
    [(early, late_case, area, other_area)] = query(
        db,
        "select min(case_number), max(case_number), min(neighborhood), max(neighborhood) "
        "from raw.incidents where incident_datetime is not null and neighborhood is not null",
    )
    revise(
        db,
        "incident_datetime = (select incident_datetime from raw.incidents where case_number = ?)",
        "case_number = ?",
        [late_case, early],
    )
    revise(
        db,
        "neighborhood = ?",
        "case_number = (select min(case_number) from raw.incidents where neighborhood = ? "
        "and case_number != ?)",
        [other_area, area, early],
    )
    revise(
        db,
        "incident_type_primary = (select max(incident_type_primary) from raw.incidents), "
        "parent_incident_type = (select max(parent_incident_type) from raw.incidents)",
        "case_number = (select min(case_number) from raw.incidents "
        "where parent_incident_type != (select max(parent_incident_type) from raw.incidents) "
        "and case_number != ?)",
        [early],
    )
    revise(
        db,
        "incident_datetime = null",
        "case_number = (select max(case_number) from raw.incidents "
        "where incident_datetime is not null and case_number != ?)",
        [late_case],
    )
    return str(early)


def test_changed_days_path_equals_a_full_refresh(built_copy: Path, tmp_path: Path) -> None:
    db = built_copy
    before = planted(db)
    plant(db, 1000, (COUNTS_TABLE,))
    revise_a_day(db)
    # The short path, for both marts (no recount of all history logged); the planted daily row
    # lies in a day no change touched, so it survives (a recount of all history heals it).
    assert recounts_of_all_history(lambda: build(db)) == set()
    assert planted(db)[0] == before[0] + 1000
    plant(db, -1000, (COUNTS_TABLE,))
    full = full_refresh_copy(db, tmp_path / "full")
    assert differences(db, full, COUNTS) == {}
    # The record now describes the build: one row per mart and record.
    [(records,)] = query(db, f"select count(*) from {DEV}intermediate.int_incidents_deduplicated")
    assert query(db, f"select counted_by, count(*) from {RECORD} group by all order by 1") == [
        ("fct_incident_counts", records),
        ("fct_incident_counts_by_type", records),
    ]


def test_a_wrong_record_is_caught_by_the_comparison(built_copy: Path, tmp_path: Path) -> None:
    """Mutation: one incident of a mid-history day is re-dated to the newest day (the only
    change), and the record forgets its old day: its rows say a week later, a day the build
    does not touch, inside the range the record is checked on. The totals still agree, so the
    short path is taken, the old day and week keep the incident, and the comparison with a
    full refresh fails: the equality above can fail."""
    db = built_copy
    [(case,)] = query(
        db,
        f"select min(case_number) from {DEV}intermediate.int_incidents_classified "
        f"where occurred_date = {MID_DAY}",
    )
    revise(
        db,
        "incident_datetime = (select max(incident_datetime) from raw.incidents)",
        "case_number = ?",
        [case],
    )
    [(changed,)] = query(
        db,
        f"update {RECORD} set occurred_date = {MID_DAY} + 7 "
        f"where record_key = (select record_key from "
        f"{DEV}intermediate.int_incidents_classified where case_number = ?)",
        [case],
    )
    assert changed == 2
    assert recounts_of_all_history(lambda: build(db)) == set()
    full = full_refresh_copy(db, tmp_path / "full")
    assert set(differences(db, full, COUNTS)) == {f"{t[0]}.{t[1]}" for t in COUNTS}


def test_a_missing_or_inconsistent_record_recounts_all_history(
    built_copy: Path, tmp_path: Path
) -> None:
    db = built_copy
    both = (COUNTS_TABLE, BY_TYPE)
    first_day = (
        f"record_key = (select min(record_key) from {RECORD} where occurred_date = "
        f"(select min(occurred_date) from {RECORD}))"
    )
    cases = [
        # One mart's rows lost; one record's rows lost; the whole table lost.
        (f"delete from {RECORD} where counted_by = 'fct_incident_counts'", (COUNTS_TABLE,)),
        (f"delete from {RECORD} where counted_by = 'fct_incident_counts_by_type'", (BY_TYPE,)),
        (f"delete from {RECORD} where {first_day}", both),
        (f"drop table {RECORD}", both),
        # A type map changed without a new load: every record's type may change.
        (
            "update raw.source_incident_types set parent_incident_type = 'm33 remapped' "
            "where incident_type = (select min(incident_type) from raw.source_incident_types)",
            both,
        ),
    ]
    for n, (damage, marts) in enumerate(cases):
        # Planted only where the recount of all history must heal it: a short path left it.
        plant(db, 1000, marts)
        query(db, damage)
        recounted = recounts_of_all_history(lambda: build(db))
        assert recounted == {table.rsplit(".", 1)[1] for table in marts}, damage
        full = full_refresh_copy(db, tmp_path / f"full{n}")
        assert differences(db, full, COUNTS) == {}, damage
