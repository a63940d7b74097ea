"""Read access to the published warehouse, behind a tiny interface so BigQuery can replace DuckDB.

A DuckDB file has one writer at a time, and a read-only connection also blocks a writer while it
is open. The dashboard therefore never holds a connection: each batch of queries opens a
read-only connection, runs, and closes it at once (results are cached by the app). When a run
holds the write lock, opening fails fast; we retry briefly and then raise :class:`WarehouseBusy`
so the app can keep serving its last good results instead of waiting on (or blocking) the run.

SQL written against a :class:`Session` uses ``$name`` bind parameters and names relations via
:meth:`Session.rel` (schema and table identifiers come from code constants only).

Environment variables read here: none (the path is passed in).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd

# Errors DuckDB raises when another process holds a conflicting lock on the file.
_LOCK_MARKERS = ("could not set lock", "conflicting lock")


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be read at all (no file yet, not a database, ...)."""


class WarehouseBusy(WarehouseUnavailable):
    """A writer (the daily run) holds the lock; try again later."""


class Session(Protocol):
    """One short-lived read-only session."""

    def rel(self, schema: str, table: str) -> str:
        """The quoted, qualified name of ``schema.table`` for this backend."""
        ...

    def columns(self, schema: str, table: str) -> list[str] | None:
        """Column names of a published table or view, or None when it does not exist."""
        ...

    def df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one query with ``$name`` parameters and return its rows."""
        ...


class Reader(Protocol):
    """A source of sessions (DuckDB file now; BigQuery datasets later)."""

    label: str

    def session(self) -> Any:
        """A context manager yielding a :class:`Session`."""
        ...


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBSession:
    """:class:`Session` over one open read-only DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() order by ordinal_position"
        ).fetchall()
        self._catalog: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in rows:
            self._catalog.setdefault((schema, table), []).append(column)

    def rel(self, schema: str, table: str) -> str:
        return f"{_quote(schema)}.{_quote(table)}"

    def columns(self, schema: str, table: str) -> list[str] | None:
        return self._catalog.get((schema, table))

    def df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self._con.execute(sql, dict(params or {})).df()


class DuckDBReader:
    """Short-lived read-only connections to a DuckDB file, retrying briefly on lock conflicts.

    Args:
        path: the warehouse file.
        attempts: connection attempts before giving up with :class:`WarehouseBusy`.
        backoff: seconds to wait after the first failed attempt (doubles each time).
    """

    def __init__(self, path: Path, attempts: int = 4, backoff: float = 0.05) -> None:
        self.path = Path(path)
        self.label = str(self.path)
        self.attempts = attempts
        self.backoff = backoff

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if not self.path.is_file():
            raise WarehouseUnavailable(
                f"no warehouse at {self.path} yet: run `blotter run` (or `make run`) first"
            )
        delay = self.backoff
        for attempt in range(self.attempts):
            try:
                return duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                message = str(exc).lower()
                if not any(marker in message for marker in _LOCK_MARKERS):
                    raise WarehouseUnavailable(
                        f"cannot open {self.path}: {str(exc).splitlines()[0]}"
                    ) from None
                if attempt == self.attempts - 1:
                    break
                time.sleep(delay)
                delay *= 2
        raise WarehouseBusy(f"{self.path} is being written by a run (lock held); try again soon")

    @contextmanager
    def session(self) -> Iterator[DuckDBSession]:
        """Open, yield and always close one read-only connection."""
        con = self._connect()
        try:
            yield DuckDBSession(con)
        finally:
            con.close()
