"""Issue 16 P3: the full build's cheaper hashing publishes the same values.

``fct_incident_areas`` takes each incident's pseudonym from one keyed hash per incident (joined
on record_key) instead of hashing every geography row; ``content_hash`` spells its text with one
``concat()`` instead of a chain of ``||``. Both must leave every value as before: an area row
lost or given another id would change published counts by area, and a snapshot hash spelled
differently would version every record on the next run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEV, SESSION_KEY, dbt, pseudonym, query

from orchestration.dbt_runner import DbtRunResult

# Not hashed by content_hash (load and system metadata): snapshots/socrata/snap_incidents.sql.
UNTRACKED = ("record_key", "dlt_load_id", "source_created_at", "source_updated_at")


def test_every_area_row_keeps_its_incidents_pseudonym(built: tuple[Path, DbtRunResult]) -> None:
    db, result = built
    assert result.node("fct_incident_areas").status == "success"
    # The levels the unpivot produces (the city and the profile's levels), not the mart's own.
    [(levels,)] = query(
        db, f"select count(distinct geo_level) from {DEV}intermediate.int_incident_areas"
    )
    rows = query(
        db,
        f"select incident_id, count(*), count(distinct geo_level) "
        f"from {DEV}marts.fct_incident_areas group by incident_id",
    )
    classified = f"{DEV}intermediate.int_incidents_classified"
    case_numbers = [c for (c,) in query(db, f"select record_key from {classified}")]
    assert levels > 1 and len(case_numbers) > 1000
    # One row per incident and level, none lost in the join, none with another id.
    assert {i for i, _, _ in rows} == {pseudonym(SESSION_KEY, c) for c in case_numbers}
    assert {(n, d) for _, n, d in rows} == {(levels, levels)}


def test_snapshot_hashes_spell_what_they_spelled_before(built: tuple[Path, DbtRunResult]) -> None:
    db, result = built
    assert result.node("snap_incidents").status == "success"
    columns = [
        c
        for (c,) in query(
            db,
            "select column_name from information_schema.columns where table_schema = ? "
            "and table_name = 'int_incidents_classified' order by ordinal_position",
            [f"{DEV}intermediate"],
        )
        if c not in UNTRACKED
    ]
    # The chain of || the hash was defined with (dbt.concat), separators and null spelling.
    spelled = " || '|' || ".join(f"coalesce(cast(\"{c}\" as varchar), '<null>')" for c in columns)
    [(current, differ)] = query(
        db,
        f"select count(*), count(*) filter (where content_hash is distinct from md5({spelled})) "
        f"from {DEV}snapshots.snap_incidents where dbt_valid_to is null",
    )
    assert len(columns) > 10 and current > 1000
    assert differ == 0


@pytest.mark.parametrize(
    "fault",
    [
        # As an inner join that missed it would lose it.
        "delete from {areas} where geo_level = 'city' and incident_id = ({newest})",
        # Left on an older load than its incident's, as a merge that skipped it would leave it.
        "update {areas} set dlt_load_id = '0' "
        "where geo_level = 'city' and incident_id = ({newest})",
    ],
    ids=["lost", "stale"],
)
def test_an_incident_missing_an_area_row_fails_the_build(
    built: tuple[Path, DbtRunResult], built_copy: Path, fault: str
) -> None:
    """The production guard of the pseudonym join: the dbt test, not only this pytest."""
    name = "assert_every_incident_has_its_areas"
    assert built[1].node(name).status == "pass"
    newest = (
        f"select incident_id from {DEV}marts.fct_incidents "
        f"order by source_updated_at desc, incident_id limit 1"
    )
    query(built_copy, fault.format(areas=f"{DEV}marts.fct_incident_areas", newest=newest))
    result = dbt(built_copy, "test", select=[name])
    assert result.node(name).status == "fail"
    assert not result.success
