"""s42, issue 16: a daily build of snap_incidents reads its window, not every incident.

The snapshot query's window was one `or` (the record's date, a new load, or a current version
dated in the window), which DuckDB does not push through the classified view: every stored
incident was read and classified (6.7 s of the 10M staging statement). On DuckDB it is now the
first two disjuncts as branches pushed into the scan, plus the records whose current version
is dated in the window but which no branch holds (re-dated versions), read by key; the keys
reach their semi joins as one unnested list (macros/snapshot_key_list.sql).

- A re-dated record that only the last set holds (its ``:updated_at`` moved back a year, its
  load not new) is compared again when a profile edit re-maps its type: it gets a version, and
  the snapshot equals, day by day, the one the `or` query (BigQuery's path) writes.
- The staging statement of a day reads the window's rows of int_incidents_deduplicated (plus
  one vector where the re-dated set is empty), not the stored history, and builds no hash
  table on the snapshot's current versions (s39's plan flip).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
from conftest import copy_db, dbt, query
from project_copy import project_with_models

SNAPSHOT = "dev_snapshots.snap_incidents"
DEDUPLICATED = "dev_intermediate.int_incidents_deduplicated"
SNAPSHOT_SQL = Path("snapshots") / "socrata" / "snap_incidents.sql"
VECTOR = 2048  # DuckDB's vector: what a probe reads before an empty build side stops it


def _new_load(db: Path) -> str:
    [(load,)] = query(db, "select max(_dlt_load_id) from raw.incidents")
    return f"{float(load) + 1:.6f}"


def day_one(db: Path) -> str:
    """A new load revises the newest record: content changed, its ``:updated_at`` corrected a
    year back, so its version is dated a second after its current one. Returns its case."""
    [(case, newest)] = query(
        db,
        "select max_by(case_number, socrata_updated_at), max(socrata_updated_at) from "
        "raw.incidents",
    )
    backdated = newest.replace(newest[:4], str(int(newest[:4]) - 1), 1)
    query(
        db,
        "update raw.incidents set incident_type_primary = 'ROBBERY', "
        "parent_incident_type = 'Robbery', socrata_updated_at = ?, _dlt_load_id = ? "
        "where case_number = ?",
        [backdated, _new_load(db), case],
    )
    return case


def day_two(db: Path) -> None:
    """A profile edit re-maps ROBBERY, with no new load."""
    query(
        db,
        "update raw.source_incident_types set parent_incident_type = 'Theft' "
        "where upper(trim(incident_type)) = 'ROBBERY'",
    )


def _versions(db: Path, case: str) -> list[tuple]:
    return query(
        db,
        f"select parent_incident_type, dbt_valid_from, dbt_valid_to from {SNAPSHOT} "
        "where case_number = ? order by dbt_valid_from",
        [case],
    )


def _rows(db: Path) -> list[tuple]:
    return query(db, f"select * exclude (dbt_scd_id), dbt_scd_id from {SNAPSHOT} order by all")


def _or_project(dest: Path) -> Path:
    """The project with the snapshot query's window as the `or` (BigQuery's path) on DuckDB."""
    project = project_with_models(dest, "s42", {})
    path = project / SNAPSHOT_SQL
    text = path.read_text()
    assert text.count("and target.type == 'duckdb'") == 1
    path.write_text(text.replace("and target.type == 'duckdb'", "and false"))
    return project


def test_a_redated_record_outside_the_branches_is_compared_again(
    built_copy: Path, tmp_path: Path
) -> None:
    ours = built_copy
    theirs = copy_db(ours, tmp_path / "or")
    (tmp_path / "project").mkdir()
    project = _or_project(tmp_path / "project")
    case = ""
    for day in (day_one, day_two):
        for db, extra in ((ours, {}), (theirs, {"project_dir": project})):
            case = day(db) or case
            result = dbt(db, select=["+snap_incidents"], **extra)
            assert result.success, result.failing_tests + result.failing_nodes
        assert _rows(ours) == _rows(theirs), day.__name__
        if day is day_one:
            # Day two's window leaves the record to the re-dated set alone: its
            # :updated_at is before the window, its load is the newest merged.
            [(start, after)] = query(
                ours,
                f"select max(dbt_updated_at) - interval 3 day, max(dlt_load_id) from {SNAPSHOT}",
            )
            [(updated, load, valid_from)] = query(
                ours,
                f"select source_updated_at, dlt_load_id, dbt_valid_from from {SNAPSHOT} "
                "where case_number = ? and dbt_valid_to is null",
                [case],
            )
            assert updated < start and load == after and valid_from >= start
    (_, first, _), (robbery, second, closed), (theft, third, current) = _versions(ours, case)
    assert (robbery, theft) == ("Robbery", "Theft")
    assert second == first + timedelta(seconds=1) and third == second + timedelta(seconds=1)
    assert closed == third and current is None


def _operators(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", []):
        yield from _operators(child)


def _profile(db: Path, sql: str) -> dict[str, Any]:
    out = db.parent / "profile.json"
    con = duckdb.connect(str(db))
    try:
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{out}'")
        con.execute(sql).fetchall()
        con.execute("pragma disable_profiling")
    finally:
        con.close()
    return json.loads(out.read_text())


def _staging_select(sql: str) -> str:
    """The select of dbt's `create temporary table ... as (select ...)` statement."""
    body = sql.split(" as (", 1)[1]
    return body[: body.rindex(")")]


def test_the_daily_staging_reads_the_window_not_the_history(
    built_copy: Path, tmp_path: Path
) -> None:
    db = built_copy
    # History that no window holds: the stored incidents again, ten years older.
    query(
        db,
        f"insert into {DEDUPLICATED} select d.* replace (d.record_key || '~' || copy as record_key,"
        " source_updated_at - interval 10 year as source_updated_at,"
        " source_created_at - interval 10 year as source_created_at,"
        " occurred_at - interval 10 year as occurred_at)"
        f" from {DEDUPLICATED} as d, range(12) as copies(copy)",
    )
    [(stored,)] = query(db, f"select count(*) from {DEDUPLICATED}")
    case = day_one(db)
    # The day's load merged upstream (a run: the planted history fails the raw reconcile test).
    upstream = dbt(db, "run", select=["+int_incidents_classified"])
    assert upstream.success, upstream.failing_nodes
    before = copy_db(db, tmp_path / "before")
    staging: list[str] = []

    def keep(event: object) -> None:
        sql = getattr(getattr(event, "data", None), "sql", "")
        if "create temporary table" in sql and "snapshotted_data" in sql:
            staging.append(" ".join(sql.split()))

    result = dbt(db, select=["snap_incidents"], callbacks=[keep])
    assert result.success, result.failing_tests + result.failing_nodes
    assert len(_versions(db, case)) == 2
    [sql] = staging
    plan = _profile(before, _staging_select(sql))
    operators = list(_operators(plan))
    scans = [
        op["operator_cardinality"]
        for op in operators
        if op.get("extra_info", {}).get("Table", "").endswith("int_incidents_deduplicated")
    ]
    [(window,)] = query(
        before,
        f"select count(*) from {DEDUPLICATED} where coalesce(source_updated_at, "
        "source_created_at, occurred_at) >= "
        f"(select max(dbt_updated_at) - interval 3 day from {SNAPSHOT}) "
        f"or dlt_load_id > (select max(dlt_load_id) from {SNAPSHOT})",
    )
    assert scans and stored > window + 8 * VECTOR
    assert sum(scans) <= window + VECTOR, (sum(scans), window, stored)
    # The snapshot query's joins (dbt's own staging reads it afterwards): none builds its hash
    # table on the snapshot's current versions.
    [cte] = [op for op in operators if op.get("extra_info", {}).get("CTE Name") == "snapshot_query"]
    query_plan = cte["children"][0]  # its definition; the second child is the rest
    joins = {
        op["extra_info"].get("Join Type")
        for op in _operators(query_plan)
        if "JOIN" in op.get("operator_name", "")
    }
    assert "SEMI" in joins and "RIGHT_SEMI" not in joins, joins
