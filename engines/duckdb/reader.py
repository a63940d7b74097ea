"""The read-only :class:`engines.reader.Reader` on a DuckDB warehouse file.

A DuckDB file has one writer at a time, and a read-only connection also blocks a writer while it
is open. A reader therefore never holds a connection: each session opens a read-only
connection, runs its queries and closes it at once. When a run holds the write lock, opening
fails fast; the reader retries briefly and then raises :class:`engines.errors.WarehouseBusy`,
so a caller can keep serving its last good results instead of waiting on (or blocking) the run.

Environment variables read here: none (the path is passed in).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from engines.lockfile import is_held
from engines.reader import QueryFailed, WarehouseBusy, WarehouseUnavailable, first_line

# Errors DuckDB raises when another process holds a conflicting lock on the file.
_LOCK_MARKERS = ("could not set lock", "conflicting lock")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBSession:
    """:class:`engines.reader.Session` over one open read-only DuckDB connection."""

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
        """``"schema"."table"`` in the file's own catalog."""
        return f"{_quote(schema)}.{_quote(table)}"

    def columns(self, schema: str, table: str) -> list[str] | None:
        """Column names of ``schema.table``, or None when it does not exist."""
        return self._catalog.get((schema, table))

    def df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one query; DuckDB binds ``$name`` parameters natively."""
        try:
            return self._con.execute(sql, dict(params or {})).df()
        except duckdb.Error as exc:
            raise QueryFailed(first_line(exc)) from exc


class DuckDBReader:
    """Short-lived read-only connections to a DuckDB file, retrying briefly on lock conflicts.

    Args:
        path: the warehouse file.
        attempts: connection attempts before giving up with ``WarehouseBusy``.
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
                        f"cannot open {self.path}: {first_line(exc)}"
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

    def writer_active(self) -> bool | None:
        """True while a writing command holds the run lock ``<warehouse>.lock``.

        The lock is the ``fcntl.flock`` every writing command holds for its whole life
        (``orchestration/lock.py``); the operating system drops it when the holder dies, so a
        ledger row still ``running`` while nobody holds it is a killed run. A shared probe held
        for microseconds (``engines/lockfile.py``).
        """
        return is_held(self.path)
