"""d39, issue 16 P2: a daily build appends revised records instead of updating the history in place.

int_incidents_deduplicated merged each day's loads with DuckDB's MERGE, which updates a revised
record's row where it is stored. Revisions of old incidents are spread over the whole history,
and the checkpoint after the build rewrites every row group holding an updated row, so the daily
cost grew with the history (0.5-0.9 s of checkpoint CPU at 1M incidents, 0.2 s at 100k). On
DuckDB the model now deletes the batch's record keys and inserts the batch: a deleted row only
marks its row group, and the new versions are appended after the stored ones.

The test revises old records spread over the table in a new load (as dlt's merge does), runs the
daily build, and checks that no stored segment of the table carries an in-place update, that the
new versions lie after every older row in storage order, and that the table equals a
``--full-refresh``.
"""

from __future__ import annotations

from pathlib import Path

from conftest import copy_db, dbt, query
from test_raw_scan_incremental import INT, SELECT, int_rows, iso, next_load, revise


def test_daily_build_appends_revisions_and_equals_a_full_refresh(
    built_copy: Path, tmp_path: Path
) -> None:
    db = built_copy
    [(newest,)] = query(db, f"select max(source_updated_at) from {INT}")
    # Old records spread over the table (every 50th in storage order), revised in one new load.
    revised = [
        key
        for (key,) in query(
            db,
            f"select record_key from (select record_key, row_number() over (order by rowid) "
            f"as n from {INT}) where n % 50 = 1",
        )
    ]
    assert len(revised) >= 5, revised
    load = next_load(db)
    for key in revised:
        revise(db, key, load, iso(newest), "D39 REVISED")

    result = dbt(db, select=SELECT)
    assert result.success, result.failing_tests + result.failing_nodes
    # No row updated where it is stored (the old code: every segment of the table).
    [(updated, stored)] = query(
        db,
        f"select count(*) filter (where has_updates), count(*) from pragma_storage_info('{INT}')",
    )
    assert (updated, stored > 0) == (0, True)
    query(db, "checkpoint")
    # The new versions come after every older row: appended, not rewritten in place.
    [(new_rows, first_new, last_old)] = query(
        db,
        f"select count(*) filter (where dlt_load_id = ?), "
        f"min(rowid) filter (where dlt_load_id = ?), max(rowid) filter (where dlt_load_id < ?) "
        f"from {INT}",
        [load, load, load],
    )
    assert new_rows == len(revised)
    assert first_new > last_old, (first_new, last_old)

    full = copy_db(db, tmp_path / "full")
    refreshed = dbt(full, select=SELECT, full_refresh=True)
    assert refreshed.success, refreshed.failing_tests + refreshed.failing_nodes
    assert int_rows(db) == int_rows(full)
