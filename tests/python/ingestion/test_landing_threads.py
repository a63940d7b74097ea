"""The DuckDB landing inserts on one thread, and the cap ends with the landing.

One thread inserts dlt's parquet for about half the CPU of two (BENCHMARKS.md, i26). DuckDB
shares one database instance between the connections a process opens to a file, so a cap set
with ``SET GLOBAL`` would slow dbt's build in the same ``blotter run`` if the landing's
instance outlived the landing: a connection opened afterwards must get DuckDB's default.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool
from duckdb_ingest import ingest_duckdb
from ingest_helpers import accounting_holds, query

from engines.duckdb import landing as duckdb_landing
from replay.server import running_replay

DAY = date(2025, 6, 10)
START = date(2025, 6, 3)


def _threads(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select current_setting('threads')").fetchall()[0][0])


def test_the_landing_loads_on_one_thread_and_leaves_the_default_after_it(
    tmp_path: Path, monkeypatch
):
    seen: list[int] = []
    borrow = DuckDbConnectionPool.borrow_conn

    def spy(self, *args, **kwargs):
        con = borrow(self, *args, **kwargs)
        seen.append(_threads(con))
        return con

    monkeypatch.setattr(DuckDbConnectionPool, "borrow_conn", spy)
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=DAY, faults=("malformed",)) as url:
        result = ingest_duckdb(url, path, START, show_progress=False)
    accounting_holds(path, result)
    assert result.loaded > 0 and result.rejected > 0
    assert seen and set(seen) == {duckdb_landing.LOAD_THREADS} == {1}  # every load connection
    with duckdb.connect(":memory:") as fresh:
        default = _threads(fresh)
    with duckdb.connect(str(path)) as after:  # what dbt opens next in the same process
        assert _threads(after) == default
    assert query(path, "select count(*) from raw.incidents")[0][0] == result.raw_rows
