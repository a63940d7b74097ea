"""A content change whose ``:updated_at`` did not move is dated a second after its version.

snap_incidents dates such a version (a profile edit re-mapping a type, or, as here, a raw row
rewritten in a new load with the same ``:updated_at``) one second after the current version's
``dbt_valid_from``, from the current versions it reads. A daily build reads only the windowed
records' current versions (issue 16 P3); leaving out the record that changed would date both
versions alike, and the unique (record_key, dbt_valid_from) test would stop the build.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import dbt, query

SNAPSHOT = "dev_snapshots.snap_incidents"


def test_changed_content_without_a_newer_updated_at_is_dated_a_second_later(
    built_copy: Path,
) -> None:
    db = built_copy
    [(case, updated_at, load_id)] = query(
        db,
        "select max_by(case_number, socrata_updated_at), max(socrata_updated_at), "
        "max(_dlt_load_id) from raw.incidents",
    )
    [(valid_from,)] = query(
        db,
        f"select dbt_valid_from from {SNAPSHOT} where case_number = ? and dbt_valid_to is null",
        [case],
    )
    # A new load, the same :updated_at: only the content changes.
    query(
        db,
        "update raw.incidents set incident_type_primary = 'ROBBERY', "
        "parent_incident_type = 'Robbery', _dlt_load_id = ? where case_number = ?",
        [f"{float(load_id) + 1:.6f}", case],
    )
    assert query(
        db, "select socrata_updated_at from raw.incidents where case_number = ?", [case]
    ) == [(updated_at,)]

    result = dbt(db, select=["+snap_incidents"])
    assert result.success, result.failing_tests + result.failing_nodes
    history = query(
        db,
        f"select incident_type, dbt_valid_from, dbt_valid_to from {SNAPSHOT} "
        "where case_number = ? order by dbt_valid_from",
        [case],
    )
    assert len(history) == 2
    (_, old_from, old_to), (new_type, new_from, new_to) = history
    assert old_from == valid_from
    assert new_from == valid_from + timedelta(seconds=1)
    assert old_to == new_from and new_to is None
    assert new_type == "ROBBERY"
