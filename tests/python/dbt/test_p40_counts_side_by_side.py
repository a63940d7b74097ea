"""p40, issue 16 P3: the two counts marts build side by side, not one after the other.

``fct_incident_counts_by_type`` waited for ``fct_incident_counts`` (a ``depends_on``) because both
write ``int_incidents_counted``. They write disjoint rows of it (``counted_by``), which DuckDB's
concurrent transactions may delete and append, so the wait only lengthened the daily build's
serial tail (the count mart, its tests, then the breakdown, its unit test and its tests, one
thread idle).

The tests show that neither mart is an ancestor of the other any more, that a daily build runs
them at the same time (their run intervals overlap) and still equals a ``--full-refresh`` with one
record row per mart and record, and that two concurrent transactions rewriting each mart's rows of
the record in the same row group, the way the marts' post-hooks do, both commit.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
from conftest import DEV, PROJECT_DIR, parsed_project, query
from test_counts_incremental import COUNTS, COUNTS_SELECT, build
from test_incremental_equivalence import differences, full_refresh_copy
from test_m33_counts_record import RECORD, revise_a_day

MARTS = ("fct_incident_counts", "fct_incident_counts_by_type")
CLASSIFIED = f"{DEV}intermediate.int_incidents_classified"


def ancestors(manifest: object, unique_id: str) -> set[str]:
    """Every node ``unique_id`` depends on, directly or not (the manifest's depends_on)."""
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        node = manifest.nodes.get(todo.pop())  # type: ignore[attr-defined]
        for parent in node.depends_on.nodes if node is not None else ():
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def run_intervals(target: Path) -> dict[str, tuple[datetime, datetime]]:
    """(first start, last end) of each counts mart in the last build's ``run_results.json``."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    out = {}
    for result in results:
        name = result["unique_id"].rsplit(".", 1)[1]
        if result["unique_id"].startswith("model.") and name in MARTS:
            times = [(t["started_at"], t["completed_at"]) for t in result["timing"]]
            out[name] = (
                datetime.fromisoformat(min(s for s, _ in times).rstrip("Z")),
                datetime.fromisoformat(max(e for _, e in times).rstrip("Z")),
            )
    return out


def test_neither_counts_mart_waits_for_the_other(built_copy: Path) -> None:
    env = {"BLOTTER_DUCKDB_PATH": str(built_copy), "BLOTTER_TARGET": "ci"}
    manifest = parsed_project(env, PROJECT_DIR, None)
    counts, by_type = (f"model.blotter.{name}" for name in MARTS)
    # Both still read the record (and what it is built from).
    record = "model.blotter.int_incidents_counted"
    assert record in ancestors(manifest, counts) and record in ancestors(manifest, by_type)
    # The old code: fct_incident_counts in the breakdown's ancestors.
    assert counts not in ancestors(manifest, by_type)
    assert by_type not in ancestors(manifest, counts)


def test_a_daily_build_runs_them_together_and_equals_a_full_refresh(
    built_copy: Path, tmp_path: Path
) -> None:
    db = built_copy
    revise_a_day(db)
    build(db)  # dbt's two threads (profiles.yml); the record's short path for both marts
    spans = run_intervals(Path(os.environ["DBT_TARGET_PATH"]))
    assert set(spans) == set(MARTS), spans
    (start_a, end_a), (start_b, end_b) = spans.values()
    # Overlapping runs: each started before the other ended (the old code: one after the other).
    assert max(start_a, start_b) < min(end_a, end_b), spans
    full = full_refresh_copy(db, tmp_path / "full", select=COUNTS_SELECT)
    assert differences(db, full, COUNTS) == {}
    [(records,)] = query(db, f"select count(*) from {DEV}intermediate.int_incidents_deduplicated")
    assert query(
        db,
        f"select counted_by, count(*), count(distinct record_key) from {RECORD} "
        "group by all order by 1",
    ) == [(MARTS[0], records, records), (MARTS[1], records, records)]


def test_concurrent_rewrites_of_each_marts_record_rows_both_commit(built_copy: Path) -> None:
    """The post-hooks' statements (counts_record_update, all-history path) in two concurrent
    transactions, interleaved: each deletes its mart's rows, which share row groups with the
    other's, and appends them again. Both commit, and the record holds each mart's rows once."""
    db = built_copy
    [(records,)] = query(db, f"select count(*) from {CLASSIFIED}")
    # Row groups (DuckDB's 122,880 rows) holding both marts' rows: all at the fixture's size.
    [(shared,)] = query(
        db,
        f"select count(*) from (select rowid // 122880 as row_group from {RECORD} "
        "group by row_group having count(distinct counted_by) = 2)",
    )
    assert shared >= 1
    con = duckdb.connect(str(db))
    try:
        cursors = {mart: con.cursor() for mart in MARTS}
        for cursor in cursors.values():
            cursor.execute("begin transaction")
        for mart, cursor in cursors.items():
            cursor.execute(f"delete from {RECORD} where counted_by = ?", [mart])
        for mart, cursor in cursors.items():
            cursor.execute(
                f"insert into {RECORD} select ?, record_key, occurred_date, dlt_load_id, "
                f"'p40 basis' from {CLASSIFIED}",
                [mart],
            )
        for cursor in cursors.values():
            cursor.execute("commit")
    finally:
        con.close()
    assert query(
        db,
        f"select counted_by, count(*), count(distinct record_key), "
        f"bool_and(counted_basis = 'p40 basis') from {RECORD} group by all order by 1",
    ) == [(MARTS[0], records, records, True), (MARTS[1], records, records, True)]
