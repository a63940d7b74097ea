"""Issue 13 item 4: the snapshot versions on business content, not on ``:updated_at``.

Socrata moves every row's ``:updated_at`` when a publisher replaces a dataset. Such a republish
with identical content adds no version; a real change to one incident adds exactly one.
"""

from __future__ import annotations

from pathlib import Path

from conftest import dbt, query

SNAPSHOT = "dev_snapshots.snap_incidents"


def _versions(db: Path) -> tuple[int, int]:
    [(rows, current)] = query(
        db, f"select count(*), count(*) filter (where dbt_valid_to is null) from {SNAPSHOT}"
    )
    return rows, current


def _republish(db: Path, updated_at: str, load_id: str, where: str = "true") -> None:
    query(
        db,
        f"update raw.incidents set socrata_updated_at = ?, _dlt_load_id = ? where {where}",
        [updated_at, load_id],
    )


def test_republish_adds_versions_only_for_changed_content(built_copy: Path) -> None:
    [(incidents,)] = query(built_copy, "select count(*) from raw.incidents")
    assert _versions(built_copy) == (incidents, incidents)

    for day in ("01", "02"):  # two identical full republishes
        _republish(built_copy, f"2025-07-{day}T00:00:00.000Z", f"18000000{day}.1")
        result = dbt(built_copy, select=["+snap_incidents"])
        assert result.success, result.failing_tests + result.failing_nodes
        assert _versions(built_copy) == (incidents, incidents)

    [(case,)] = query(built_copy, "select min(case_number) from raw.incidents")
    query(
        built_copy,
        "update raw.incidents set incident_type_primary = 'ROBBERY', "
        "parent_incident_type = 'Robbery' where case_number = ?",
        [case],
    )
    _republish(built_copy, "2025-07-03T00:00:00.000Z", "1800000003.1", where="true")
    result = dbt(built_copy, select=["+snap_incidents"])
    assert result.success, result.failing_tests + result.failing_nodes
    assert _versions(built_copy) == (incidents + 1, incidents)
    history = query(
        built_copy,
        f"select incident_type, dbt_valid_to is null from {SNAPSHOT} "
        "where case_number = ? order by dbt_valid_from",
        [case],
    )
    assert [current for _, current in history] == [False, True]
    assert history[-1][0] == "ROBBERY"
