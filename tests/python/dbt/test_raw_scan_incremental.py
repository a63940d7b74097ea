"""Issue 16 P2/P3: the daily build reads the raw rows of new loads, not the whole history.

Raw rows are changed here the way dlt's merge changes them: a new or revised record lands in a
load with a larger id and replaces the record's earlier raw row (raw keeps one row per record
key). An incremental ``dbt build`` then reads only the rows of loads newer than the newest one
``int_incidents_deduplicated`` merged, and the staging tests that scanned all of raw check only
the loads the model does not hold as they are (new loads, or old ones a fault unbalanced);
``--full-refresh`` and ``dbt test`` still check every row. Each test selects only the staging
view and the model (with their tests), to keep the builds short.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import DEV, copy_db, dbt, query

INT = f"{DEV}intermediate.int_incidents_deduplicated"
# The model and the staging view it reads, with their tests.
SELECT = ["stg_socrata__incidents", "int_incidents_deduplicated"]


def next_load(db: Path) -> str:
    """A dlt load id newer than every load in raw (dlt's decimal Unix time)."""
    [(newest,)] = query(db, "select max(_dlt_load_id) from raw.incidents")
    return f"{float(newest) + 1:.6f}"


def revise(db: Path, case: str, load: str, updated: str, incident_type: str) -> None:
    """Replace the raw row of ``case`` with a revision in ``load``, as dlt's merge does."""
    query(
        db,
        "update raw.incidents set incident_type_primary = ?, socrata_updated_at = ?, "
        "_dlt_load_id = ? where case_number = ?",
        [incident_type, updated, load, case],
    )


def add_copy(db: Path, case: str, new_case: str, load: str, updated: str) -> None:
    """Append a copy of the raw row of ``case`` as ``new_case`` in ``load`` (dlt's append)."""
    query(
        db,
        "insert into raw.incidents by name select * replace (? as case_number, "
        "? as socrata_updated_at, ? as _dlt_load_id, _dlt_id || '-copy' as _dlt_id) "
        "from raw.incidents where case_number = ?",
        [new_case, updated, load, case],
    )


def iso(value: object) -> str:
    """A datetime as Socrata's :updated_at text."""
    return f"{value:%Y-%m-%dT%H:%M:%S.000Z}"


def int_rows(db: Path, where: str = "true") -> set[tuple]:
    """Every row of int_incidents_deduplicated as a set of tuples."""
    return set(query(db, f"select * from {INT} where {where}"))


def test_new_loads_merge_exactly_and_old_rows_are_not_read(built_copy: Path, tmp_path: Path):
    """Incremental == full refresh, including a revision whose :updated_at is older than the
    version merged before. A raw row changed in place (no new load) is neither read nor tested
    again by a daily build (fails on the old code, which parsed every raw row, re-merged recent
    ones and re-tested all of raw), and is by --full-refresh."""
    db = built_copy
    [(newest,)] = query(db, f"select max(source_updated_at) from {INT}")
    [(older, inside)] = query(
        db,
        f"select min(record_key) filter (where source_updated_at < ?), "
        f"max(record_key) filter (where source_updated_at >= ?) from {INT}",
        [newest - timedelta(days=10), newest - timedelta(days=1)],
    )
    [(older_updated,)] = query(
        db, f"select source_updated_at from {INT} where record_key = ?", [older]
    )
    load = next_load(db)
    # Out of order: the new load brings a version a day older than the one merged before.
    revise(db, older, load, iso(older_updated - timedelta(days=1)), "ROBBERY")
    add_copy(db, older, f"{older}-NEW", load, iso(newest))
    # Changed in place, in an old load, inside the old :updated_at window: not a new load.
    [(inside_before,)] = query(
        db, f"select incident_type from {INT} where record_key = ?", [inside]
    )
    query(
        db,
        "update raw.incidents set incident_type_primary = 'IN PLACE', incident_datetime = null "
        "where case_number = ?",
        [inside],
    )

    result = dbt(db, select=SELECT)
    assert result.success, result.failing_tests + result.failing_nodes
    # Its load was checked when it landed: not again (the old build re-checked all of raw).
    assert not any("occurred_at_local" in name for name in result.warning_tests)

    [(revised_type, revised_at)] = query(
        db, f"select incident_type, source_updated_at from {INT} where record_key = ?", [older]
    )
    assert (revised_type, revised_at) == ("ROBBERY", older_updated - timedelta(days=1))
    assert query(db, f"select count(*) from {INT} where record_key = ?", [f"{older}-NEW"]) == [(1,)]
    # Not read again: the merged version stays (a full refresh reads the in-place change).
    assert query(db, f"select incident_type from {INT} where record_key = ?", [inside]) == [
        (inside_before,)
    ]

    full = copy_db(db, tmp_path / "full")
    refreshed = dbt(full, select=SELECT, full_refresh=True)
    assert refreshed.success, refreshed.failing_tests + refreshed.failing_nodes
    assert any("occurred_at_local" in name for name in refreshed.warning_tests)
    others = f"record_key != '{inside}'"
    assert int_rows(db, others) == int_rows(full, others)
    assert query(full, f"select incident_type from {INT} where record_key = ?", [inside]) == [
        ("IN PLACE",)
    ]


def test_bad_rows_in_a_new_load_fail_the_build(built_copy: Path) -> None:
    """Staging's tests restricted to unreconciled loads still fail on bad rows of a new load: a
    missing record key, a key twice in the load, a key an older raw row still has."""
    db = built_copy
    [(case, other)] = query(db, "select min(case_number), max(case_number) from raw.incidents")
    [(updated,)] = query(db, f"select max(source_updated_at) from {INT}")
    load = next_load(db)
    add_copy(db, case, " ", load, iso(updated))  # a blank record key: null in staging
    add_copy(db, case, f"{case}-TWICE", load, iso(updated))
    add_copy(db, case, f"{case}-TWICE", load, iso(updated - timedelta(hours=1)))
    # dlt's merge broke: the new row did not replace the key's row of an older load.
    add_copy(db, other, other, load, iso(updated))

    daily = dbt(db, select=SELECT)
    assert not daily.success
    failing = daily.failing_tests
    assert any(t.startswith("not_null_stg_socrata__incidents_record_key") for t in failing)
    unique = next(n for n in daily.nodes if n.name.startswith("unique_stg_socrata__incidents"))
    assert (unique.status, unique.rows) == ("fail", 2)
    # The failing staging tests stopped the merge.
    assert daily.node("int_incidents_deduplicated").status == "skipped"


def test_rows_the_window_cannot_see_stop_the_build(built_copy: Path) -> None:
    """A load whose id is older than the newest merged (a skewed clock) is not read by the
    daily build: the per-load reconciliation fails, and staging's relationships test names the
    record it lost."""
    db = built_copy
    [(case, first_load)] = query(
        db, "select max(case_number), min(_dlt_load_id) from raw.incidents"
    )
    [(updated,)] = query(db, f"select max(source_updated_at) from {INT}")
    add_copy(db, case, f"{case}-SKEWED", f"{float(first_load) - 1:.6f}", iso(updated))

    daily = dbt(db, select=SELECT)
    assert not daily.success
    assert daily.node("assert_raw_loads_reconcile").rows == 1
    relationships = next(n for n in daily.nodes if n.name.startswith("relationships_stg_socrata"))
    assert (relationships.status, relationships.rows) == ("fail", 1)
    assert query(db, f"select count(*) from {INT} where record_key = ?", [f"{case}-SKEWED"]) == [
        (0,)
    ]
