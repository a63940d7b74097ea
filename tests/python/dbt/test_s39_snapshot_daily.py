"""s39, issue 16 P3: a daily build of snap_incidents reads the keys the day touched, not history.

- dbt's staging query compares the snapshot query's rows with the current versions of their
  keys only (macros/snapshot_staging.sql), not with every current version, and writes exactly
  what dbt's own staging writes.
- The snapshot's two uniqueness tests read, in a build that versioned the snapshot, only the
  keys given a version (``where: __built_keys__``), found with the window the snapshot used
  before its merge. A duplicate the build writes fails them, even a version the merge dated
  below the window the table's new max gives (a content change without a newer
  ``:updated_at``, while another record moves the max five days on). An old duplicate of an
  untouched key is left to a full ``dbt test``, which still reads every row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import copy_db, dbt, query
from project_copy import project_with_models
from test_daily_test_scope import OLD_LOAD, status

SNAPSHOT = "dev_snapshots.snap_incidents"
UNIQUE_VERSION = "unique_combination_of_columns_snap_incidents_record_key__dbt_valid_from"
UNIQUE_CURRENT = "unique_snap_incidents_record_key"
SNAPSHOT_TESTS = (UNIQUE_VERSION, UNIQUE_CURRENT)
TYPE_CHANGE = (
    "update raw.incidents set incident_type_primary = 'ROBBERY', "
    "parent_incident_type = 'Robbery', _dlt_load_id = ?"
)


def _current(db: Path, case: str) -> tuple[str, datetime]:
    [(key, valid_from)] = query(
        db,
        f"select record_key, dbt_valid_from from {SNAPSHOT} "
        "where case_number = ? and dbt_valid_to is null",
        [case],
    )
    return key, valid_from


def next_day(db: Path) -> tuple[str, datetime]:
    """Raw as a next day's load leaves it; returns the record key re-dated below the new window.

    In one new load: the newest record changes content five days later (the snapshot's max
    moves on), and a record two days older than it changes content with the same
    ``:updated_at``, so its version is dated a second after its current one: inside the window
    the snapshot reads before its merge, below the one its table gives after it.
    """
    [(newest, load)] = query(
        db, "select max(socrata_updated_at), max(_dlt_load_id) from raw.incidents"
    )
    new_load = f"{float(load) + 1:.6f}"
    [(mover,)] = query(db, "select max_by(case_number, socrata_updated_at) from raw.incidents")
    [(redated,)] = query(
        db,
        "select max_by(case_number, socrata_updated_at) from raw.incidents "
        "where socrata_updated_at < ? and socrata_updated_at > ?",
        [_iso(_parse(newest) - timedelta(days=2)), _iso(_parse(newest) - timedelta(days=3))],
    )
    assert redated is not None
    key, valid_from = _current(db, redated)
    query(db, f"{TYPE_CHANGE} where case_number = ?", [new_load, redated])
    query(
        db,
        f"{TYPE_CHANGE}, socrata_updated_at = ? where case_number = ?",
        [new_load, _iso(_parse(newest) + timedelta(days=5)), mover],
    )
    [(latest,)] = query(db, f"select max(dbt_updated_at) from {SNAPSHOT}")
    assert latest - timedelta(days=3) <= valid_from < latest - timedelta(days=1)
    return key, valid_from


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "")[:19])


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def plant(db: Path, key: str, valid_from: datetime, current: bool) -> None:
    """Add an old version of ``key`` (old load, dated a month back) starting at ``valid_from``:
    closed, or (``current``) a second current one."""
    query(
        db,
        f"insert into {SNAPSHOT} by name select * replace ("
        "? as dbt_valid_from, ? as dbt_valid_to, ? as dbt_updated_at, ? as dlt_load_id, "
        "'planted' as dbt_scd_id) "
        f"from {SNAPSHOT} where record_key = ? and dbt_valid_to is null",
        [
            valid_from,
            None if current else valid_from + timedelta(seconds=1),
            valid_from - timedelta(days=30),
            OLD_LOAD,
            key,
        ],
    )


@pytest.mark.parametrize(
    ("current", "failing"),
    [(False, (UNIQUE_VERSION,)), (True, SNAPSHOT_TESTS)],
    ids=["version-twice", "two-current"],
)
def test_a_duplicate_the_build_writes_fails_its_daily_tests(
    built_copy: Path, current: bool, failing: tuple[str, ...]
) -> None:
    """The re-dated version meets a planted one of the same start (or a second current one,
    which the merge then versions twice): the day's tests read that key and fail."""
    key, valid_from = next_day(built_copy)
    plant(
        built_copy,
        key,
        valid_from - timedelta(days=1) if current else valid_from + timedelta(seconds=1),
        current,
    )
    daily = dbt(built_copy, select=["+snap_incidents"])
    assert query(
        built_copy,
        f"select count(*) from {SNAPSHOT} where record_key = ? and dbt_valid_from = ?",
        [key, valid_from + timedelta(seconds=1)],
    ) == [(2,)]
    for prefix in failing:
        assert status(daily, prefix) == "fail", prefix


def test_an_old_duplicate_is_left_to_a_full_test(built_copy: Path) -> None:
    """Untouched keys (oldest :updated_at) are not read by the day's tests; `dbt test` reads all."""
    next_day(built_copy)
    old = query(
        built_copy,
        f"select record_key, dbt_valid_from from {SNAPSHOT} "
        "order by dbt_updated_at, record_key limit 2",
    )
    plant(built_copy, *old[0], current=False)
    plant(built_copy, old[1][0], old[1][1] - timedelta(days=1), current=True)
    daily = dbt(built_copy, select=["+snap_incidents"])
    assert daily.success, daily.failing_tests + daily.failing_nodes
    for prefix in SNAPSHOT_TESTS:
        assert status(daily, prefix) == "pass", prefix
    full = dbt(built_copy, "test", select=["snap_incidents"])
    for prefix in SNAPSHOT_TESTS:
        assert status(full, prefix) == "fail", prefix


def _snapshot_rows(db: Path) -> list[tuple]:
    return query(db, f"select * exclude (dbt_scd_id), dbt_scd_id from {SNAPSHOT} order by all")


def test_staging_compares_the_query_keys_only_and_writes_what_dbt_writes(
    built: tuple, tmp_path: Path
) -> None:
    """The day's staging reads the current versions of the query's keys only; the snapshot it
    leaves equals the one dbt's own staging (the project without the override) leaves."""
    ours, dbts = (copy_db(built[0], tmp_path / name) for name in ("ours", "dbts"))
    (tmp_path / "project").mkdir()
    plain = project_with_models(tmp_path / "project", "s39", {})
    (plain / "macros" / "snapshot_staging.sql").unlink(missing_ok=True)
    staging: list[str] = []

    def keep(event: object) -> None:
        sql = getattr(getattr(event, "data", None), "sql", "")
        if "snapshotted_data" in sql:
            staging.append(" ".join(sql.split()))

    for db, project in ((ours, None), (dbts, plain)):
        next_day(db)
        extra = {"project_dir": project} if project else {"callbacks": [keep]}
        result = dbt(db, select=["+snap_incidents"], **extra)
        assert result.success, result.failing_tests + result.failing_nodes
    assert _snapshot_rows(ours) == _snapshot_rows(dbts)
    assert len(_snapshot_rows(ours)) > len(_snapshot_rows(built[0]))
    # The staging table's statement, and dbt's query of its column types.
    assert staging
    for sql in staging:
        read = sql.split("snapshotted_data as (", 1)[1].split("), insertions_source_data")[0]
        assert "where record_key in (select record_key from snapshot_query)" in read, read
