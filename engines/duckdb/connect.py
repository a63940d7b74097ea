"""Opening the DuckDB warehouse file, with DuckDB's errors turned into the engine's own.

A write waits out another process's short hold on the file (the dashboard's reads) for
``LOCK_WAIT_SECONDS``; a lock held longer raises :class:`engines.errors.WarehouseBusy` (worth a
retry), any other failure to open raises :class:`engines.base.WarehouseError`. Both keep
DuckDB's exception as their cause, so the one-line message names the root cause.

Environment variables read here: none.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from engines.base import WarehouseError
from engines.errors import WarehouseBusy, as_transient

LOCK_WAIT_SECONDS = 15.0


def _is_lock(exc: duckdb.Error) -> bool:
    return isinstance(as_transient(exc), WarehouseBusy)


def connect(
    path: Path, read_only: bool = False, wait_seconds: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to ``path``; waits out a short lock held by another process.

    Raises:
        WarehouseBusy: another process holds the file longer than the wait.
        WarehouseError: the file cannot be opened (corrupt, not a DuckDB file, missing).
    """
    if read_only and not path.exists():
        raise WarehouseError(f"warehouse file {path} does not exist")
    wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if _is_lock(exc) and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            if _is_lock(exc):
                raise WarehouseBusy(f"the warehouse {path} is held by another process") from exc
            raise WarehouseError(f"cannot open the warehouse {path}") from exc


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """True when ``schema.table`` is a table of the open warehouse (not an attached one)."""
    row = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])
