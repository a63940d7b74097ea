"""A read-only view of the published warehouse, for the dashboard and analysts.

Each engine gives a :class:`Reader` (``Engine.reader()``: ``engines/duckdb/reader.py``,
``engines/bigquery/reader.py``). A reader hands out short-lived :class:`Session` objects: open,
run a few queries, close. SQL written against a session is engine-neutral:

- relations are named through :meth:`Session.rel` (identifiers from code constants only);
- values are ``$name`` bind parameters (each engine translates them to its own style), never
  spliced into the SQL text; ``None`` is not a bindable value (BigQuery needs a type);
- the SQL itself is valid on DuckDB and BigQuery alike (no ``count(*) filter``, no ``::``).

Errors: :class:`WarehouseUnavailable` when the warehouse cannot be read at all (say what to
do), :class:`engines.errors.WarehouseBusy` when a writer holds it right now (try again soon),
:class:`QueryFailed` when one query fails (the caller may go on without its result).

Environment variables read here: none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

import pandas as pd

from engines.errors import WarehouseBusy

__all__ = [
    "PARAMETER",
    "QueryFailed",
    "Reader",
    "Session",
    "WarehouseBusy",
    "WarehouseUnavailable",
    "first_line",
]

# A bind parameter in reader SQL: ``$name``.
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be read at all (no file yet, not a database, no such project)."""


class QueryFailed(RuntimeError):
    """One query failed (a missing column, a type error); the message is one line."""


class Session(Protocol):
    """One short-lived read-only session."""

    def rel(self, schema: str, table: str) -> str:
        """The quoted, qualified name of the published ``schema.table`` for this engine."""
        ...

    def columns(self, schema: str, table: str) -> list[str] | None:
        """Column names of a published table or view, or None when it does not exist."""
        ...

    def df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one query with ``$name`` parameters; :class:`QueryFailed` when it fails."""
        ...


class Reader(Protocol):
    """A source of read-only sessions on one warehouse."""

    #: Where the reader reads, for people (a file path, ``project/prefix``).
    label: str

    def session(self) -> AbstractContextManager[Session]:
        """A context manager yielding a :class:`Session`, closed on exit."""
        ...

    def writer_active(self) -> bool | None:
        """Whether a writing command (a run) is alive right now; None when it cannot tell.

        A ledger row still ``running`` while no writer is alive is a killed run.
        """
        ...


def first_line(exc: BaseException) -> str:
    """The first line of an error message (engines attach multi-line payloads)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
