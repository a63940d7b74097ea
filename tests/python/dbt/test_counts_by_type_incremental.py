"""Issue 16 P3: fct_incident_counts_by_type built incrementally equals a ``--full-refresh``.

The model compares what it would publish (suppressed cells and remainders) with its previous
rows and rewrites only the area-weeks that differ (plus touched weeks and new areas), so these
cases aim at what a suppressed table hides: an incident re-typed so that a published cell of k
falls below k (it and a complementary cell become suppressed) and back, a change seen only in
the 'other (suppressed)' remainder (a suppressed cell grows but stays suppressed), a new parent
type (zero-filled into every area-week) and its disappearance (the pre-hook rebuilds whole).
test_counts_incremental.py runs the shared cases (re-dated, moved, withdrawn incidents, new and
lost areas, the calendar, flags, the profile) on both counts marts. After each build both marts
are compared with a ``--full-refresh`` build of the same data with ``EXCEPT ALL`` both ways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import DEV, query
from test_counts_incremental import build, build_and_compare, revise

BY_TYPE = f"{DEV}marts.fct_incident_counts_by_type"
REMAINDER = "other (suppressed)"
K = 5
# Unsuppressed weekly counts per cell, computed in the test from the restricted intermediate
# layer (the model stores none), with one incident of each cell.
CELLS = f"""
    select
        dim_date.week_start_date as period_start, areas.geo_level, areas.geo,
        areas.parent_incident_type, count(*) as incidents,
        min(classified.case_number) as case_number
    from {DEV}intermediate.int_incident_areas as areas
    inner join {DEV}marts.dim_date as dim_date on areas.occurred_date = dim_date.date_day
    inner join {DEV}intermediate.int_incidents_classified as classified
        on areas.record_key = classified.record_key
    where areas.geo_level != 'city'
    group by all
"""
CELL = "period_start = ? and geo_level = ? and geo = ? and parent_incident_type = ?"


def published(db: Path, cell: tuple) -> tuple:
    [row] = query(db, f"select incidents, is_suppressed from {BY_TYPE} where {CELL}", list(cell))
    return row


def raw_value(db: Path, column: str, case_number: str) -> Any:
    [(value,)] = query(
        db,
        f"select {column} from raw.incidents where case_number = ? "
        "order by socrata_updated_at desc, _dlt_load_id desc limit 1",
        [case_number],
    )
    return value


def test_no_change_rewrites_nothing_and_heals_a_wrong_cell(
    built_copy: Path, tmp_path: Path
) -> None:
    """With nothing new, a planted value the comparison does not read survives (a full
    rebuild would reset it): the incremental path ran. A planted wrong count is healed."""
    db = built_copy
    [(week, second)] = query(db, f"select min(period_start), min(period_start) + 7 from {BY_TYPE}")
    [(level, geo)] = query(
        db,
        f"select geo_level, geo from {BY_TYPE} where period_start = ? and "
        "parent_incident_type = ? and incidents = 0 order by all limit 1",
        [week, REMAINDER],
    )
    untouched = [week, level, geo, REMAINDER]
    [cell] = query(
        db,
        f"select period_start, geo_level, geo, parent_incident_type, incidents from {BY_TYPE} "
        "where period_start = ? and not is_suppressed and incidents > 0 "
        "and parent_incident_type != ? order by all limit 1",
        [second, REMAINDER],
    )
    query(db, f"update {BY_TYPE} set incident_category = 'planted' where {CELL}", untouched)
    query(db, f"update {BY_TYPE} set incidents = incidents + 1000 where {CELL}", list(cell[:4]))
    build(db)
    planted = query(db, f"select incident_category from {BY_TYPE} where {CELL}", untouched)
    assert planted == [("planted",)]
    assert published(db, cell[:4]) == (cell[4], False)
    query(db, f"update {BY_TYPE} set incident_category = null where {CELL}", untouched)
    build_and_compare(db, tmp_path / "unchanged")


def test_suppression_changes_equal_a_full_refresh(built_copy: Path, tmp_path: Path) -> None:
    db = built_copy
    # A published cell of exactly k loses an incident to another type: it falls to k-1
    # (suppressed, so its area-week has at least one more suppressed cell), then comes back.
    [(week, level, geo, kind, case_number)] = query(
        db,
        f"""
        with cells as ({CELLS})
        select period_start, geo_level, geo, parent_incident_type, case_number from cells
        where incidents = {K}
        order by period_start desc, geo_level, geo, parent_incident_type limit 1
        """,
    )
    cell = (week, level, geo, kind)
    assert published(db, cell) == (K, False)
    original = raw_value(db, "incident_type_primary", case_number)
    other = "ROBBERY" if kind != "Robbery" else "THEFT"
    revise(db, "incident_type_primary = ?", "case_number = ?", [other, case_number])
    build_and_compare(db, tmp_path / "below_k")
    assert published(db, cell) == (None, True)
    [(suppressed,)] = query(
        db,
        f"select count(*) from {BY_TYPE} where period_start = ? and geo_level = ? and geo = ? "
        "and is_suppressed",
        [week, level, geo],
    )
    assert suppressed >= 2  # the small cell and its complement
    revise(db, "incident_type_primary = ?", "case_number = ?", [original, case_number])
    build_and_compare(db, tmp_path / "back_to_k")
    assert published(db, cell) == (K, False)

    # A suppressed cell gains an incident from another week yet stays below k: its published
    # rows are unchanged, only the area-week's remainder grows.
    [(s_week, s_level, s_geo, s_kind, s_case, r_case)] = query(
        db,
        f"""
        with cells as ({CELLS})
        select small.period_start, small.geo_level, small.geo, small.parent_incident_type,
            small.case_number, donor.case_number
        from cells as small
        inner join cells as donor
            on small.geo_level = donor.geo_level and small.geo = donor.geo
            and small.parent_incident_type = donor.parent_incident_type
            and small.period_start != donor.period_start
        where small.incidents < {K - 1} and small.case_number != donor.case_number
        order by small.period_start desc, small.geo_level, small.geo,
            small.parent_incident_type, donor.case_number limit 1
        """,
    )
    remainder = (s_week, s_level, s_geo, REMAINDER)
    [(before,)] = query(db, f"select incidents from {BY_TYPE} where {CELL}", list(remainder))
    assert published(db, (s_week, s_level, s_geo, s_kind)) == (None, True)
    when = raw_value(db, "incident_datetime", s_case)
    revise(db, "incident_datetime = ?", "case_number = ?", [when, r_case])
    build_and_compare(db, tmp_path / "remainder")
    assert published(db, (s_week, s_level, s_geo, s_kind)) == (None, True)
    assert published(db, remainder) == (before + 1, False)


def test_new_and_vanished_types_equal_a_full_refresh(built_copy: Path, tmp_path: Path) -> None:
    db = built_copy
    [(case_number,)] = query(
        db,
        "select max(case_number) from raw.incidents where incident_datetime is not null",
    )
    original = raw_value(db, "incident_type_primary", case_number)
    parent = raw_value(db, "parent_incident_type", case_number)
    revise(
        db,
        "incident_type_primary = 'B25 TEST TYPE', parent_incident_type = 'B25 Test Type'",
        "case_number = ?",
        [case_number],
    )
    build_and_compare(db, tmp_path / "new_type")
    [(rows, area_weeks)] = query(
        db,
        f"select count(*) filter (parent_incident_type = 'B25 Test Type'), "
        f"count(distinct (period_start, geo_level, geo)) from {BY_TYPE}",
    )
    assert rows == area_weeks > 1  # zero-filled into every area-week

    revise(
        db,
        "incident_type_primary = ?, parent_incident_type = ?",
        "case_number = ?",
        [original, parent, case_number],
    )
    build_and_compare(db, tmp_path / "vanished_type")
    assert query(
        db, f"select count(*) from {BY_TYPE} where parent_incident_type = 'B25 Test Type'"
    ) == [(0,)]
