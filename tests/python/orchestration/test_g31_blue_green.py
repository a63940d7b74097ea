"""Issue 16 P2: the DuckDB publish flips views between two colours and copies no rows.

Real DuckDB files; the build is made by hand in the colour each schema builds in
(``engines.duckdb.colours``), as dbt and ``ml/`` leave it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from orch_helpers import REPO, schema_digest
from test_publish import _build_audit, build_names

from engines.base import PUBLISHED_SCHEMAS, PublishBlocked
from engines.duckdb.colours import live_prefixes
from engines.duckdb.publish import prepare_audit, publish

BIG_ROWS = 2_000_000


def _values(con: duckdb.DuckDBPyConnection) -> tuple:
    """A reader's view of the warehouse: the published tables' contents (rows of the views
    follow ``raw``, which is never rolled back) and the colour each published view reads."""
    reads = con.execute(
        "select distinct regexp_extract(sql, '(blue|green)_', 1) from duckdb_views() "
        "where schema_name in ('staging', 'intermediate', 'marts', 'ml')"
    ).fetchall()
    return (
        con.execute("select sum(incidents) from marts.fct_incident_counts").fetchone()[0],
        con.execute("select max(day) from ml.forecasts").fetchone()[0],
        sorted(r[0] for r in reads),
    )


def _base_tables(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    rows = con.execute(
        "select schema_name, table_name, estimated_size from duckdb_tables() "
        "where database_name = current_database() and schema_name != 'ops'"
    ).fetchall()
    return {(s, t): size for s, t, size in rows}


def test_publish_copies_no_rows_whatever_the_size(tmp_path: Path) -> None:
    """The built tables themselves become the published data: same table objects, no new
    blocks, no base table in a published schema (the old publish copied every table)."""
    path = tmp_path / "w.duckdb"
    built = _build_audit(path, day=1)
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"create table {built['marts']}.fct_incidents as "
            "select range as id, range % 97 as district from range(?)",
            [BIG_ROWS],
        )
        con.execute("checkpoint")
        tables_before = _base_tables(con)
        blocks_before = con.execute("pragma database_size").fetchone()[4]
    publish(path)
    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")
        blocks_after = con.execute("pragma database_size").fetchone()[4]
        assert _base_tables(con) == tables_before  # nothing created, dropped or rewritten
        assert not [k for k in _base_tables(con) if k[0] in PUBLISHED_SCHEMAS]
        assert con.execute("select count(*) from marts.fct_incidents").fetchone() == (BIG_ROWS,)
    # The 2M rows take dozens of blocks; the publish adds catalog entries and the small
    # record of each table's fingerprint (w33: one block for it when it is first created).
    assert blocks_after - blocks_before <= 3, (blocks_before, blocks_after)


def test_a_reader_sees_the_previous_run_or_this_one_never_a_mix(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    reader = duckdb.connect(str(path))  # the same database instance: a concurrent reader
    old = _values(reader)
    _build_audit(path, day=2)
    seen = []
    reader.execute("begin transaction")  # a long read that started before the flip
    assert _values(reader) == old
    publish(path, on_schema=lambda schema: seen.append(_values(duckdb.connect(str(path)))))
    assert old == (10, 1, ["blue"])
    assert seen == [old] * 4  # during the transaction: the previous run everywhere
    assert _values(reader) == old  # the open read keeps its snapshot, old colour included
    reader.execute("commit")
    assert _values(reader) == (20, 2, ["green"])
    reader.close()


_KILL = """
import os, sys
from pathlib import Path
from engines.duckdb.publish import publish
def die(schema):
    if schema == "marts":
        os._exit(9)
publish(Path(sys.argv[1]), on_schema=die)
"""


def test_a_kill_mid_publish_leaves_the_published_data_and_the_next_run_correct(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    before = schema_digest(path, PUBLISHED_SCHEMAS)
    _build_audit(path, day=2)
    killed = subprocess.run(
        [sys.executable, "-c", _KILL, str(path)], cwd=REPO, capture_output=True, text=True
    )
    assert killed.returncode == 9, killed.stderr
    assert schema_digest(path, PUBLISHED_SCHEMAS) == before
    with duckdb.connect(str(path)) as con:
        assert set(live_prefixes(con).values()) == {"blue_"}
    prepare_audit(path)  # the next run resets the half-published colour from the live one
    _build_audit(path, day=3)
    publish(path)
    with duckdb.connect(str(path)) as con:
        assert _values(con) == (30, 3, ["green"])
        assert set(live_prefixes(con).values()) == {"green_"}


def test_a_forecast_only_publish_then_a_full_run(tmp_path: Path) -> None:
    """Colours differ per schema after ``blotter forecast``; the next full run builds each
    schema in its own other colour, continues from the live copies and publishes all."""
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    assert prepare_audit(path, schemas=("marts", "ml")) == 2
    with duckdb.connect(str(path)) as con:
        con.execute("update green_ml.forecasts set day = 7")
    publish(path, schemas=("marts", "ml"))
    with duckdb.connect(str(path)) as con:
        assert _values(con) == (10, 7, ["blue", "green"])
        assert live_prefixes(con) == {
            "staging": "blue_",
            "intermediate": "blue_",
            "marts": "green_",
            "ml": "green_",
        }
    assert build_names(path) == {
        "staging": "green_staging",
        "intermediate": "green_intermediate",
        "marts": "blue_marts",
        "ml": "blue_ml",
        "snapshots": "blue_snapshots",
    }
    # The full run seeds the table it continues from out of the LIVE colour (green_ml).
    assert prepare_audit(path, tables={("ml", "forecasts")}) == 1
    with duckdb.connect(str(path)) as con:
        assert con.execute("select day from blue_ml.forecasts").fetchall() == [(7,)]
    _build_audit(path, day=3)
    publish(path)
    with duckdb.connect(str(path)) as con:
        assert _values(con) == (30, 3, ["blue", "green"])
        assert con.execute("select count(*) from marts.v_counts").fetchone() == (3,)
        assert con.execute("select count(*) from intermediate.int_incidents").fetchone() == (30,)
        assert live_prefixes(con) == {
            "staging": "green_",
            "intermediate": "green_",
            "marts": "blue_",
            "ml": "blue_",
        }
        left = con.execute(
            "select count(*) from duckdb_schemas() where schema_name in "
            "('blue_staging', 'blue_intermediate', 'green_marts', 'green_ml')"
        ).fetchone()
        assert left == (0,)


def test_a_failed_run_publishes_nothing_and_stays_inspectable(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    before = schema_digest(path, PUBLISHED_SCHEMAS)
    failed = _build_audit(path, day=2)
    with pytest.raises(PublishBlocked):
        publish(path, failing_tests=["not_null_fct_incident_counts_district"])
    assert schema_digest(path, PUBLISHED_SCHEMAS) == before
    with duckdb.connect(str(path)) as con:  # the failed build, where the colour record says
        assert set(live_prefixes(con).values()) == {"blue_"}
        marts = failed["marts"]
        assert marts == "green_marts"
        assert con.execute(f"select sum(incidents) from {marts}.fct_incident_counts").fetchone()[
            0
        ] == (20)


def test_a_stale_plan_never_writes_the_live_colour(tmp_path: Path) -> None:
    """A build colour that became live since the command started is refused, nothing dropped."""
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    before = schema_digest(path, PUBLISHED_SCHEMAS)
    live = {s: "blue_" for s in PUBLISHED_SCHEMAS}
    with pytest.raises(RuntimeError, match="is the live one"):
        prepare_audit(path, prefixes=live)
    with pytest.raises(RuntimeError, match="is the live one"):
        publish(path, prefixes=live)
    assert schema_digest(path, PUBLISHED_SCHEMAS) == before


def test_a_warehouse_published_by_copies_moves_to_colours(tmp_path: Path) -> None:
    """The first run after the upgrade seeds from the published tables the old publish left."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema ml")
        con.execute("create table marts.fct_incident_counts as select 1 as district, 5 as n")
        con.execute("create table ml.forecasts as select 4 as day")
    assert prepare_audit(path, schemas=("marts", "ml")) == 2
    publish(path, schemas=("marts", "ml"))
    with duckdb.connect(str(path)) as con:
        assert con.execute("select n from marts.fct_incident_counts").fetchall() == [(5,)]
        assert con.execute("select day from ml.forecasts").fetchall() == [(4,)]
        assert not [k for k in _base_tables(con) if k[0] in PUBLISHED_SCHEMAS]
        assert live_prefixes(con) == {"marts": "blue_", "ml": "blue_"}


def test_a_missing_live_copy_stops_the_next_run_loudly(tmp_path: Path) -> None:
    """Views onto a dropped colour cannot be re-seeded from: refuse, change nothing."""
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    with duckdb.connect(str(path)) as con:
        con.execute("drop schema blue_ml cascade")
    with pytest.raises(RuntimeError, match="blue_ml, the live copy of ml .* does not exist"):
        prepare_audit(path)
    with duckdb.connect(str(path)) as con:
        assert con.execute("select sum(incidents) from marts.fct_incident_counts").fetchone() == (
            10,
        )


def test_a_record_the_published_views_contradict_stops_every_command(tmp_path: Path) -> None:
    """A hand-edited colour record would make the next build drop the schema readers see and
    seed from the other colour (perhaps a failed build): refuse it, change nothing."""
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    with duckdb.connect(str(path)) as con:
        before = _values(con)
        con.execute("update ops.published_colours set colour_prefix = 'green_'")
    with pytest.raises(
        RuntimeError, match="published views read blue_.*set its colour_prefix to 'blue_'"
    ):
        prepare_audit(path)
    with pytest.raises(RuntimeError, match="published views read blue_"):
        publish(path)
    with duckdb.connect(str(path)) as con:
        assert _values(con) == before
