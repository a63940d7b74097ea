"""g38, issue 16 P2: dim_geography counts its areas from the deduplicated table, not the view.

dim_geography's areas seen, counts and first/last dates were an aggregate of the
int_incident_areas view, which unpivots every incident once per level through the classified
view's type joins. The model now reads each level's area column and the date from
int_incidents_deduplicated with the view's rule, in one pass that each level rolls up. This
checks that its plan reads no type map and scans the incidents once, and that after revisions
(an area appears, an incident moves to another area, one loses its date, one its area, one
record leaves the table) every row still equals what the view says: the view's aggregate per
level and area, official and unseen areas with no incident, no date.
"""

from __future__ import annotations

from pathlib import Path

from conftest import DEV, LANDED_NEXT_DAY, dbt, query
from test_counts_incremental import revise
from test_h37_history_nodes import compiled, scans
from test_incremental_equivalence import MODELS_ONLY, land_day

NEW_AREA = "G38 NEW AREA"
# Every column the areas' incidents decide, per row of dim_geography, beside the view's.
MISMATCHES = f"""
with view_areas as (
    select geo_level, geo, count(*) as incidents, min(occurred_date) as first_occurred_date,
        max(occurred_date) as last_occurred_date
    from {DEV}intermediate.int_incident_areas
    group by geo_level, geo
),
expected as (
    select dim.geo_level, dim.geo, coalesce(v.incidents, 0) as incidents,
        v.geo is not null as has_incidents, v.first_occurred_date, v.last_occurred_date
    from {DEV}marts.dim_geography as dim
    left join view_areas as v on dim.geo_level = v.geo_level and dim.geo = v.geo
    union all
    -- an area the view holds that the dimension lacks
    select geo_level, geo, incidents, true, first_occurred_date, last_occurred_date
    from view_areas as v
    where not exists (
        select 1 from {DEV}marts.dim_geography as dim
        where dim.geo_level = v.geo_level and dim.geo = v.geo
    )
),
built as (
    select geo_level, geo, incidents, has_incidents, first_occurred_date, last_occurred_date
    from {DEV}marts.dim_geography
)
select 'built only' as side, * from (select * from built except all select * from expected)
union all
select 'expected only', * from (select * from expected except all select * from built)
"""


def mismatches(db: Path) -> list[tuple]:
    return query(db, MISMATCHES)


def build_dim_geography(db: Path) -> None:
    result = dbt(db, select=["+dim_geography"], exclude=MODELS_ONLY)
    assert result.success, result.failing_nodes


def test_dim_geography_equals_the_view_after_revisions(built_copy: Path) -> None:
    db = built_copy
    assert mismatches(db) == []
    land_day(db, LANDED_NEXT_DAY)
    [(area, other)] = query(
        db,
        "select min(neighborhood), max(neighborhood) from raw.incidents "
        "where neighborhood is not null",
    )
    # An area appears; an incident moves to another area; one loses its date; one its area.
    revise(
        db,
        "neighborhood = ?",
        "case_number = (select min(case_number) from raw.incidents where neighborhood = ?)",
        [NEW_AREA, other],
    )
    revise(
        db,
        "neighborhood = ?",
        "case_number = (select max(case_number) from raw.incidents where neighborhood = ?)",
        [other, area],
    )
    revise(
        db,
        "incident_datetime = null",
        "case_number = (select max(case_number) from raw.incidents "
        "where incident_datetime is not null and neighborhood = ?)",
        [other],
    )
    revise(
        db,
        "neighborhood = null",
        "case_number = (select min(case_number) from raw.incidents where neighborhood = ?)",
        [area],
    )
    build_dim_geography(db)
    [(seen,)] = query(
        db,
        f"select incidents from {DEV}marts.dim_geography where geo = ? and has_incidents",
        [NEW_AREA],
    )
    assert seen == 1
    assert mismatches(db) == []
    # A record leaves the table (a --full-refresh after its raw row went): the area's first
    # incident, so its first date must move.
    query(
        db,
        f"delete from {DEV}intermediate.int_incidents_deduplicated where record_key = ("
        f"select arg_min(record_key, occurred_date) from {DEV}intermediate.int_incident_areas "
        "where geo = ? and occurred_date is not null)",
        [other],
    )
    result = dbt(db, select=["dim_geography"], exclude=MODELS_ONLY)
    assert result.success, result.failing_nodes
    assert mismatches(db) == []
    # The plan: one scan of the incidents, no type map (the classified view's joins).
    tables = [s["table"].rsplit(".", 1)[-1] for s in scans(db, compiled("dim_geography"))]
    assert "source_incident_types" not in tables, tables
    assert "source_parent_incident_types" not in tables, tables
    assert tables.count("int_incidents_deduplicated") == 1, tables
