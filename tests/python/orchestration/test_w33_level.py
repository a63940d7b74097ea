"""Issue 16 P2 (w33): a kept table levelled with the live copy, and the fingerprints that say a
kept colour was written after its publish. Real DuckDB files; the seven-day CLI equality is
``test_w32_catch_up.py``, the hand write through the CLI ``test_w33_fingerprint.py``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from engines.duckdb import colour_state, level

SNAP = "record_key varchar, dbt_scd_id varchar, dbt_valid_to integer, payload varchar"


def _same(con: duckdb.DuckDBPyConnection, a: str, b: str) -> bool:
    """Equal as multisets."""
    one = con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0]
    two = con.execute(f"select count(*) from (from {b} except all from {a})").fetchone()[0]
    return one == two == 0


@pytest.fixture
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        connection.execute("create schema kept; create schema live")
        yield connection


def _snapshot_states(con: duckdb.DuckDBPyConnection) -> None:
    """kept: 1000 records of one version; live: one run later (a snapshot merge): r1 revised
    (its version closed, a new one), r2 revised twice over two runs (closed twice), r3000 new."""
    con.execute(f"create table kept.snap ({SNAP})")
    con.execute(
        "insert into kept.snap select 'r' || range, 'v' || range, null, 'p' from range(1000)"
    )
    con.execute("create table live.snap as from kept.snap")
    con.execute("update live.snap set dbt_valid_to = 5 where record_key in ('r1', 'r2')")
    con.execute("insert into live.snap values ('r1', 'v1b', null, 'q'), ('r2', 'v2b', 6, 'q')")
    con.execute("insert into live.snap values ('r2', 'v2c', null, 'z'), ('r3000', 'x', null, 'n')")


def test_a_snapshot_is_levelled_by_moving_only_the_changed_records(con) -> None:
    _snapshot_states(con)
    moved = level.level(con, "kept", "live", "snap", "record_key", ("dbt_scd_id", "dbt_valid_to"))
    assert moved == 3  # r1, r2, r3000; the 998 others untouched
    assert _same(con, "kept.snap", "live.snap")


def test_a_record_left_out_of_the_move_is_seen(con, monkeypatch) -> None:
    """The mutation the seven-day test also catches: a delta that misses one record."""
    _snapshot_states(con)
    real = con.execute

    class Leaky:
        def execute(self, sql, *args):
            if sql.startswith("create or replace temp table levelled_keys"):
                sql = sql.replace("select distinct", "select distinct on (true)", 1)
            return real(sql, *args)

    moved = level.level(
        Leaky(), "kept", "live", "snap", "record_key", ("dbt_scd_id", "dbt_valid_to")
    )  # type: ignore[arg-type]
    assert moved is None  # one record instead of three: the row counts differ, not levelled


def test_the_ml_store_is_levelled_per_run_with_every_column_compared(con) -> None:
    """A new run's rows, an old run's registry row changed (a promotion), a NULL key."""
    con.execute("create table kept.runs (run_id varchar, status varchar, score double)")
    con.execute("insert into kept.runs values ('a', 'champion', 1), ('b', 'challenger', 2)")
    con.execute("insert into kept.runs values (null, 'x', 0), ('c', 'retired', 3)")
    con.execute("create table live.runs as from kept.runs")
    con.execute("update live.runs set status = 'retired' where run_id = 'a'")
    con.execute("update live.runs set score = 9 where run_id is null")
    con.execute("insert into live.runs values ('d', 'champion', 4), ('d', 'champion', 4)")
    assert level.level(con, "kept", "live", "runs", "run_id", None) == 3  # a, NULL, d
    assert _same(con, "kept.runs", "live.runs")


def test_copies_of_another_shape_are_not_levelled(con) -> None:
    con.execute("create table kept.t (k integer, v integer)")
    con.execute("create table live.t (k integer, v varchar)")
    assert level.level(con, "kept", "live", "t", "k", None) is None
    assert level.level(con, "kept", "live", "missing", "k", None) is None
    con.execute("create table kept.u (k integer); create table live.u (k integer)")
    assert level.level(con, "kept", "live", "u", "k", ("not_there",)) is None


def test_a_fingerprint_follows_writes_not_time(tmp_path: Path) -> None:
    path = tmp_path / "f.duckdb"

    def fp() -> str:
        with duckdb.connect(str(path)) as c:
            return colour_state.fingerprint(c, "s", "t")

    def write(sql: str) -> None:
        with duckdb.connect(str(path)) as c:
            c.execute(sql)
            c.execute("checkpoint")

    write("create schema s; create table s.t as select range i, range % 7 j from range(300000)")
    first = fp()
    assert first == fp()  # reopened
    write("create table s.other as select range i from range(200000); drop table s.other")
    assert fp() == first  # other tables written, the file checkpointed
    write("comment on table s.t is 'a description'")
    assert fp() == first  # no row changed
    seen = {first}
    for sql in (
        "update s.t set j = 8 where i = 12345",  # same count
        "delete from s.t where i = 5; insert into s.t values (5, 5)",  # same rows again
        "create or replace table s.t as from s.t",  # re-created, same rows
        "delete from s.t where i = 6",
    ):
        write(sql)
        now = fp()
        assert now not in seen, sql
        seen.add(now)


def test_changed_since_publish_names_written_and_unrecorded_tables(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema ops; create schema blue_marts")
        con.execute("create table blue_marts.a as select range i from range(10)")
        con.execute("create table blue_marts.b as select range i from range(10)")
        con.execute("checkpoint")
        colour_state.record_fingerprints(con, "marts", "blue_", ["a", "b"])
        assert colour_state.changed_since_publish(con, "marts", "blue_", ["a", "b"]) == []
        con.execute("update blue_marts.b set i = 0 where i = 1")
        con.execute("create table blue_marts.c (i integer)")
        assert colour_state.changed_since_publish(con, "marts", "blue_", ["a", "b", "c"]) == [
            "b",
            "c",
        ]
        colour_state.forget(con, "marts", "blue_")  # the colour is being dropped
        assert colour_state.changed_since_publish(con, "marts", "blue_", ["a"]) == ["a"]
