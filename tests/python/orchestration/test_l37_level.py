"""Issue 16 P2 (l37): the levelling's comparison is one hash join of the copies' rows, not two
``EXCEPT ALL``s, and finds the same keys, duplicate rows included. Real DuckDB; the seven-day
CLI equality is ``test_w32_catch_up.py``, the levelling's cases ``test_w33_level.py``."""

from __future__ import annotations

import random

import duckdb
import pytest

from engines.duckdb import level

COLUMNS = "k varchar, scd varchar, valid_to integer, payload double"


@pytest.fixture
def con():
    with duckdb.connect() as connection:  # in memory: the random cases create many tables
        connection.execute("create schema kept; create schema live")
        yield connection


def _reference_keys(con: duckdb.DuckDBPyConnection, picked: str) -> set:
    """The keys the w33 code found: two ``EXCEPT ALL``s (multisets, NULLs equal)."""
    rows = con.execute(
        f"select distinct k from ((select {picked} from live.t except all "
        f"select {picked} from kept.t) union all "
        f"(select {picked} from kept.t except all select {picked} from live.t))"
    ).fetchall()
    return {r[0] for r in rows}


def _random_copies(con: duckdb.DuckDBPyConnection, rng: random.Random, distinct: bool) -> None:
    """Two copies of 0-40 rows from a small domain: NULL keys and values, NaN, and (unless
    ``distinct``) rows repeated a different number of times in each copy."""

    def rows() -> list[tuple]:
        keys = [None, "a", "b", "c", "d"]
        return [
            (
                rng.choice(keys),
                rng.choice([None, "v1", "v2"]),
                rng.choice([None, 1, 2]),
                rng.choice([None, 0.5, float("nan")]),
            )
            for _ in range(rng.randrange(0, 40))
        ]

    for schema in ("kept", "live"):
        batch = rows()
        con.execute(f"create or replace table {schema}.t ({COLUMNS})")
        if batch:
            con.executemany(f"insert into {schema}.t values (?, ?, ?, ?)", batch)
        if distinct:
            con.execute(f"create or replace table {schema}.t as select distinct * from {schema}.t")
    if rng.random() < 0.5:  # often: live is kept plus a few changes, as in a daily run
        con.execute("create or replace table live.t as from kept.t")
        con.execute("insert into live.t values ('b', 'v9', null, 1.0), (null, 'v1', 1, 0.5)")
        con.execute("delete from live.t where k = 'c' and scd = 'v1'")


@pytest.mark.parametrize("compared", [("scd", "valid_to"), None])
def test_the_keys_found_are_those_of_the_two_except_alls(con, compared) -> None:
    rng = random.Random(37)
    paths = set()
    for case in range(80):
        _random_copies(con, rng, distinct=case % 2 == 0)
        wanted = ["k", *(compared or ("scd", "valid_to", "payload"))]
        expected = _reference_keys(con, ", ".join(wanted))
        paths.add(level.find_differing_keys(con, "kept.t", "live.t", wanted))
        found = con.execute("select k from levelled_keys").fetchall()
        assert len(found) == len({r[0] for r in found})  # distinct
        assert {r[0] for r in found} == expected
        con.execute("begin")
        moved = level.level(con, "kept", "live", "t", "k", compared)
        if compared is None:  # every column compared: the copies are equal afterwards
            assert moved == len(expected)
            one = "select count(*) from (from {} except all from {})"
            assert con.execute(one.format("kept.t", "live.t")).fetchone()[0] == 0
            assert con.execute(one.format("live.t", "kept.t")).fetchone()[0] == 0
        con.execute("rollback")
    assert paths == {True, False}  # the single join, and the per-value counts (duplicates)


@pytest.mark.parametrize("doubled", ["kept", "live"])
def test_a_row_twice_in_one_copy_and_once_in_the_other_is_a_difference(con, doubled) -> None:
    """Every row matched, yet one value occurs twice on one side: the single join's counts
    cannot tell (2 pairs), the per-value counts can."""
    for schema in ("kept", "live"):
        con.execute(f"create table {schema}.t ({COLUMNS})")
        con.execute(f"insert into {schema}.t values ('a', 'v1', null, 1), ('b', 'v2', 3, 1)")
    con.execute(f"insert into {doubled}.t values ('b', 'v2', 3, 1)")
    assert not level.find_differing_keys(con, "kept.t", "live.t", ["k", "scd", "valid_to"])
    assert con.execute("select k from levelled_keys").fetchall() == [("b",)]


class _Recorder:
    """A connection that keeps the plan of each query that fills a temp table."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.plans: list[str] = []

    def execute(self, sql: str, *args):
        if sql.startswith("create or replace temp table "):
            query = sql.split(" as ", 1)[1]
            self.plans.append(self.con.execute(f"explain {query}").fetchall()[0][1])
        return self.con.execute(sql, *args)


def test_the_comparison_reads_each_copy_once_without_numbering_rows(con) -> None:
    """The w33 comparison scanned each copy twice and numbered every row in a window (DuckDB's
    ``EXCEPT ALL``): 6x the CPU of one join on a 1M-row snapshot (BENCHMARKS l37)."""
    con.execute(f"create table kept.t ({COLUMNS})")
    con.execute("insert into kept.t select 'r' || range, 'v' || range, null, 1 from range(1000)")
    con.execute("create table live.t as from kept.t")
    con.execute("update live.t set valid_to = 5 where k = 'r1'")
    con.execute("insert into live.t values ('r1', 'v1b', null, 2)")
    recorder = _Recorder(con)
    assert level.level(recorder, "kept", "live", "t", "k", ("scd", "valid_to")) == 1  # type: ignore[arg-type]
    assert not any("WINDOW" in plan for plan in recorder.plans)
    scans = sum(plan.count("Table: memory.kept.t") for plan in recorder.plans)
    assert scans + sum(plan.count("Table: memory.live.t") for plan in recorder.plans) == 2
