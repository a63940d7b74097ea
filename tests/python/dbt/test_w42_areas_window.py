"""Issue 16 (w42): assert_every_incident_has_its_areas reads its daily window branch by branch.

The test counts, per load and level, the incidents of fct_incidents and the area rows of
fct_incident_areas in their daily window (recent_rows_predicate). On DuckDB it reads the window
as one select per disjoint branch (recent_rows_read): a ``source_updated_at`` in the window, a
null one, or a load at least as new as the window's oldest with an older ``source_updated_at``.
An area row lost in each branch must still fail the daily scope, in its own load; one lost on an
old incident of an old load is not read again daily (the merge never changes a row it does not
write) and fails on ``--full-refresh``. The daily SQL must read the branches, not an ``or``
over the whole table (which DuckDB cannot push into the scan).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from conftest import DEV, dbt, query

MARTS = f"{DEV}marts"
FCT, AREAS = f"{MARTS}.fct_incidents", f"{MARTS}.fct_incident_areas"
TEST = "assert_every_incident_has_its_areas"
# dlt load ids are decimal Unix times: older than every load of the fixture, and newer.
OLD_LOAD, OLDER_LOAD, NEW_LOAD = "1000000000.000000", "1000000001.000000", "9999999999.000000"


def move(db: Path, incident_id: str, load: str, null_updated: bool = False) -> None:
    """Put an incident (and its area rows) in ``load``; ``null_updated``: no :updated_at."""
    for relation in (FCT, AREAS):
        query(
            db, f"update {relation} set dlt_load_id = ? where incident_id = ?", [load, incident_id]
        )
        if null_updated:
            query(
                db,
                f"update {relation} set source_updated_at = null where incident_id = ?",
                [incident_id],
            )


def lose_an_area(db: Path, incident_id: str) -> str:
    """Delete one area row of the incident; its level."""
    [(level,)] = query(
        db, f"select min(geo_level) from {AREAS} where incident_id = ?", [incident_id]
    )
    query(db, f"delete from {AREAS} where incident_id = ? and geo_level = ?", [incident_id, level])
    return level


def failures(db: Path, full_refresh: bool) -> set[tuple[str, str, int]]:
    """(load, level, incidents - area rows) of the test's failing rows."""
    if full_refresh:
        result = dbt(
            db, select=[TEST], full_refresh=True, extra_args=("--quiet", "--store-failures")
        )
    else:
        result = dbt(db, "test", select=[TEST], extra_args=("--quiet", "--store-failures"))
    [node] = [n for n in result.nodes if n.name == TEST]
    assert node.status == "fail" and node.relation, node
    rows = query(db, f"select dlt_load_id, geo_level, incidents - area_rows from {node.relation}")
    return set(rows)


def test_an_area_lost_in_each_branch_fails_daily_and_an_old_one_on_full_refresh(
    built_copy: Path,
) -> None:
    db = built_copy
    [(latest,)] = query(db, f"select max(source_updated_at) from {FCT}")
    [(recent, recent_load)] = query(
        db,
        f"select incident_id, dlt_load_id from {FCT} where source_updated_at is not null "
        "order by source_updated_at desc, incident_id limit 1",
    )
    oldest = query(
        db,
        f"select incident_id, source_updated_at from {FCT} where source_updated_at is not null "
        "order by source_updated_at, incident_id limit 3",
    )
    assert all(updated < latest - timedelta(days=3) for _, updated in oldest), oldest
    (nulled, _), (late, _), (old, _) = oldest
    move(db, nulled, OLD_LOAD, null_updated=True)  # the null branch alone reads it
    move(db, late, NEW_LOAD)  # the load branch alone reads it
    move(db, old, OLDER_LOAD)  # no branch reads it
    levels = {key: lose_an_area(db, key) for key in (recent, nulled, late, old)}

    daily = failures(db, full_refresh=False)
    in_window = {
        (recent_load, levels[recent], 1),
        (OLD_LOAD, levels[nulled], 1),
        (NEW_LOAD, levels[late], 1),
    }
    assert daily == in_window
    # The daily SQL reads the window one branch at a time (no `or` over the whole history).
    compiled = Path(
        os.environ["DBT_TARGET_PATH"], "compiled", "blotter", "tests", "dbt", f"{TEST}.sql"
    )
    text = " ".join(compiled.read_text().split()).lower()
    assert text.count("union all select * from") >= 4, text
    assert "or source_updated_at is null" not in text, text

    assert failures(db, full_refresh=True) == in_window | {(OLDER_LOAD, levels[old], 1)}


def test_relationships_fail_once_per_orphan_row_and_probe_each_value_once(
    built_copy: Path,
) -> None:
    """The relationships override (tests/dbt/generic/test_relationships.sql) groups the child's
    values before the join on DuckDB, and still fails with one row per orphan child row."""
    db = built_copy
    ids = [r[0] for r in query(db, f"select incident_id from {FCT} order by incident_id limit 5")]
    # Three area rows of one missing geography, two of another: five failing rows, two values.
    for orphan, incident_ids in (("no-such-area-a", ids[:3]), ("no-such-area-b", ids[3:])):
        query(
            db,
            f"update {AREAS} set geography_id = ? where incident_id in "
            f"({', '.join('?' * len(incident_ids))}) and geo_level = 'city'",
            [orphan, *incident_ids],
        )
    prefix = "relationships_fct_incident_areas_geography_id"
    result = dbt(db, "test", select=[f"{prefix}*"], extra_args=("--quiet", "--store-failures"))
    [node] = [n for n in result.nodes if n.name.startswith(prefix)]
    assert node.status == "fail" and node.rows == 5 and node.relation, node
    found = query(db, f"select from_field, count(*) from {node.relation} group by all")
    assert sorted(found) == [("no-such-area-a", 3), ("no-such-area-b", 2)]
    # dbt shortens the file names of long test names.
    [text] = [
        " ".join(path.read_text().split()).lower()
        for path in Path(os.environ["DBT_TARGET_PATH"], "compiled").rglob("relationships_*.sql")
        if "fct_incident_areas" in path.read_text() and "dim_geography" in path.read_text()
    ]
    assert "group by geography_id" in text and "range(child.child_rows)" in text, text


def test_within_bbox_fails_once_per_point_outside(built_copy: Path) -> None:
    """On DuckDB within_bbox reads the points outside as four disjoint selects (pushed into the
    scan): each point outside fails once (a corner is south and west), a NaN too, as with the
    one `not (... between ...)` predicate it replaces."""
    db = built_copy
    rows = query(
        db,
        f"select incident_id, grid_latitude from {FCT} where grid_latitude is not null "
        "and grid_longitude is not null order by incident_id limit 6",
    )
    inside_lat = rows[0][1]
    points = (  # (latitude, longitude): south, north, west, east, south-west corner, NaN
        (0.0, -78.85),
        (89.0, -78.85),
        (inside_lat, -179.0),
        (inside_lat, 179.0),
        (0.0, -179.0),
        (float("nan"), -78.85),
    )
    for (incident_id, _), (lat, lon) in zip(rows, points, strict=True):
        query(
            db,
            f"update {FCT} set grid_latitude = ?, grid_longitude = ? where incident_id = ?",
            [lat, lon, incident_id],
        )
    prefix = "within_bbox_fct_incidents_grid_latitude"
    result = dbt(db, "test", select=[f"{prefix}*"], extra_args=("--quiet",))
    [node] = [n for n in result.nodes if n.name.startswith(prefix)]
    assert node.status == "fail" and node.rows == len(points), node
    [text] = [
        " ".join(path.read_text().split()).lower()
        for path in Path(os.environ["DBT_TARGET_PATH"], "compiled").rglob("within_bbox_*.sql")
        if "fct_incidents" in path.read_text()
    ]
    assert text.count("union all") == 3 and "not (" not in text, text


def test_reporting_lag_reads_the_numerically_latest_load(built_copy: Path) -> None:
    """assert_reporting_lag_within_allowance casts each distinct load id once and still picks
    the latest load by number: here an id that sorts first as text (11 digits) holds the only
    late reports, and the test warns; without them in that load it passes."""
    db = built_copy
    name = "assert_reporting_lag_within_allowance"
    keys = [r[0] for r in query(db, "select case_number from raw.incidents limit 40")]
    marks = ", ".join("?" * len(keys))
    query(
        db,
        f"update raw.incidents set _dlt_load_id = '10000000000.5' where case_number in ({marks})",
        keys,
    )
    assert dbt(db, "test", select=[name]).node(name).status == "pass"
    query(
        db,
        "update raw.incidents set created_at = strftime(cast(incident_datetime as timestamp) "
        f"+ interval 7 day, '%Y-%m-%dT%H:%M:%S.000') where case_number in ({marks})",
        keys,
    )
    result = dbt(db, "test", select=[name])
    assert result.node(name).status == "warn", result.node(name)
    [text] = [
        " ".join(path.read_text().split()).lower()
        for path in Path(os.environ["DBT_TARGET_PATH"], "compiled").rglob(f"{name}.sql")
    ]
    assert "from ( select distinct dlt_load_id" in text, text
