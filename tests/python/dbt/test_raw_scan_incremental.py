"""Issue 16 P2/P3: the daily build reads the raw rows of new loads, not the whole history.

Raw rows are changed here the way dlt's merge changes them: a new or revised record lands in a
load with a larger id and replaces the record's earlier raw row (raw keeps one row per record
key). An incremental ``dbt build`` then reads only the rows of loads newer than the newest one
``int_incidents_deduplicated`` merged, and the staging tests that scanned all of raw check only
those loads' rows; ``--full-refresh`` and ``dbt test`` still check every row.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import DEV, copy_db, dbt, query

INT = f"{DEV}intermediate.int_incidents_deduplicated"
# The model and the staging view it reads, with their tests.
SELECT = ["stg_socrata__incidents", "int_incidents_deduplicated"]
STAGING = "stg_socrata__incidents"


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
    version merged before; a raw row changed without a new load is not read again (fails on
    the old window, which re-parsed every raw row and re-merged recent ones)."""
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
        "update raw.incidents set incident_type_primary = 'IN PLACE' where case_number = ?",
        [inside],
    )

    result = dbt(db, select=SELECT)
    assert result.success, result.failing_tests + result.failing_nodes

    [(revised_type, revised_at)] = query(
        db, f"select incident_type, source_updated_at from {INT} where record_key = ?", [older]
    )
    assert (revised_type, revised_at) == ("ROBBERY", older_updated - timedelta(days=1))
    assert query(db, f"select count(*) from {INT} where record_key = ?", [f"{older}-NEW"]) == [
        (1,)
    ]
    # Not read again: the merged version stays (a full refresh reads the in-place change).
    assert query(db, f"select incident_type from {INT} where record_key = ?", [inside]) == [
        (inside_before,)
    ]

    full = copy_db(db, tmp_path / "full")
    refreshed = dbt(full, select=SELECT, full_refresh=True)
    assert refreshed.success, refreshed.failing_tests + refreshed.failing_nodes
    others = f"record_key != '{inside}'"
    assert int_rows(db, others) == int_rows(full, others)
    assert query(full, f"select incident_type from {INT} where record_key = ?", [inside]) == [
        ("IN PLACE",)
    ]


def test_bad_rows_in_a_new_load_fail_the_build(built_copy: Path) -> None:
    """The staging tests restricted to new loads still fail on bad rows of a new load (a
    missing record key, a key twice); a bad row of an already merged load is not checked
    again by a daily build (fails on the old code, which re-checked all of raw), and is by
    --full-refresh."""
    db = built_copy
    [(case, other)] = query(db, "select min(case_number), max(case_number) from raw.incidents")
    [(updated,)] = query(db, f"select max(source_updated_at) from {INT}")
    load = next_load(db)
    add_copy(db, case, " ", load, iso(updated))  # a blank record key: null in staging
    add_copy(db, other, f"{other}-TWICE", load, iso(updated))
    add_copy(db, other, f"{other}-TWICE", load, iso(updated - timedelta(hours=1)))
    # A row of an old load lost its incident time (in place): checked when its load landed.
    query(db, "update raw.incidents set incident_datetime = null where case_number = ?", [case])

    daily = dbt(db, select=SELECT)
    assert not daily.success
    failing = daily.failing_tests
    assert any(t.startswith("not_null_stg_socrata__incidents_record_key") for t in failing)
    assert any(t.startswith("unique_stg_socrata__incidents_record_key") for t in failing)
    assert not any("occurred_at_local" in name for name in daily.warning_tests)

    everything = dbt(db, select=[STAGING], full_refresh=True)
    assert not everything.success
    assert any("occurred_at_local" in name for name in everything.warning_tests)


def test_rows_the_window_cannot_see_stop_the_build(built_copy: Path) -> None:
    """A load whose id is older than the newest merged (a skewed clock) and a second raw row
    for a merged key (a broken merge) are not read by the daily build; the per-load
    reconciliation fails on both, and staging's relationships test names the missing key."""
    db = built_copy
    [(case, first_load)] = query(
        db, "select max(case_number), min(_dlt_load_id) from raw.incidents"
    )
    [(updated,)] = query(db, f"select max(source_updated_at) from {INT}")
    skewed = f"{float(first_load) - 1:.6f}"
    add_copy(db, case, f"{case}-SKEWED", skewed, iso(updated))
    add_copy(db, case, case, next_load(db), iso(updated))

    daily = dbt(db, select=SELECT)
    assert not daily.success
    failing = daily.failing_tests
    assert "assert_raw_loads_reconcile" in failing
    assert any(t.startswith("relationships_stg_socrata__incidents_record_key") for t in failing)
    assert query(db, f"select count(*) from {INT} where record_key = ?", [f"{case}-SKEWED"]) == [
        (0,)
    ]
    # The skewed load, and the first load still holding the key's older raw row.
    assert daily.node("assert_raw_loads_reconcile").rows == 2
