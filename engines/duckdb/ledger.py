"""The run ledger store in a DuckDB file: the tables ``ops.run_ledger`` and
``ops.unit_test_passes`` (the digests of code whose unit tests passed).

Rows are plain dicts in ``COLUMNS`` order, the row declared once in ``engines/ledger_table.py``;
what they mean (statuses, abandoned runs) is ``orchestration.ledger``'s business.

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engines.duckdb.connect import connect, table_exists
from engines.duckdb.ml_store import sql_type
from engines.ledger_table import COLUMNS, KEY, LEDGER, PASSES, SCHEMA, TABLE, is_json


def _ddl() -> str:
    """``ops.run_ledger`` from the one declaration; columns an older ledger lacks are added."""
    columns = []
    for field in LEDGER:
        kind = "JSON" if is_json(field) else sql_type(field.type)
        constraint = (
            " primary key" if field.name == KEY else ("" if field.nullable else " not null")
        )
        columns.append(f"{field.name} {kind}{constraint}")
    added = [
        f"alter table {SCHEMA}.{TABLE} add column if not exists {column};"
        for column in columns
        if not column.startswith(KEY + " ") and "not null" not in column
    ]
    return "\n".join(
        [
            f"create schema if not exists {SCHEMA};",
            f"create table if not exists {SCHEMA}.{TABLE} ({', '.join(columns)});",
            *added,
        ]
    )


_DDL = _ddl()


class DuckDBLedger:
    """``ops.run_ledger`` in the DuckDB file ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def _writer(self, wait_seconds: float | None = None) -> Any:
        # The directory must exist: whether a warehouse may be created is decided before.
        con = connect(self.path, wait_seconds=wait_seconds)
        con.execute(_DDL)
        return con

    def upsert(self, row: Mapping[str, Any]) -> None:
        """Insert or replace the row keyed by ``run_id``."""
        placeholders = ", ".join("?" for _ in COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "run_id")
        with self._writer() as con:
            con.execute(
                f"insert into {SCHEMA}.{TABLE} ({', '.join(COLUMNS)}) values ({placeholders}) "
                f"on conflict (run_id) do update set {updates}",
                [row[c] for c in COLUMNS],
            )

    def rows(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        """Newest first; a missing file or table means no runs yet."""
        if not self.path.exists():
            return []
        with connect(self.path, read_only=True) as con:
            present = {
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() "
                    "where schema_name = ? and table_name = ?",
                    [SCHEMA, TABLE],
                ).fetchall()
            }
            if not present:
                return []
            # A ledger written by an older Blotter lacks the newer columns: read them as null.
            selected = ", ".join(c if c in present else f"null as {c}" for c in COLUMNS)
            where = "where status = ? " if status else ""
            rows = con.execute(
                f"select {selected} from {SCHEMA}.{TABLE} {where}"
                "order by started_at desc, run_id desc limit ?",
                [*([status] if status else []), limit],
            ).fetchall()
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]

    def abandon(self, run_id: str, ended_at: Any, steps_json: str, reason: str) -> None:
        """Mark ``run_id`` abandoned, appending ``reason`` to its error."""
        with self._writer() as con:
            con.execute(
                f"update {SCHEMA}.{TABLE} set status = ?, ended_at = ?, steps = ?, "
                "error = coalesce(error || '; ', '') || ? where run_id = ?",
                ["abandoned", ended_at, steps_json, reason, run_id],
            )

    def unit_tests_passed(self, basis: str) -> tuple[str, int] | None:
        """``(run id, unit tests)`` recorded for ``basis``; None also for a new warehouse."""
        if not self.path.exists():
            return None
        with connect(self.path, read_only=True) as con:
            if not table_exists(con, SCHEMA, PASSES):
                return None
            row = con.execute(
                f"select run_id, unit_tests from {SCHEMA}.{PASSES} where basis = ?", [basis]
            ).fetchone()
        return (str(row[0]), int(row[1])) if row else None

    def record_unit_tests_passed(self, basis: str, run_id: str, unit_tests: int) -> None:
        """Record (or replace) the pass of ``basis`` by ``run_id``."""
        with self._writer() as con:
            con.execute(
                f"create table if not exists {SCHEMA}.{PASSES} (basis varchar primary key, "
                "run_id varchar not null, unit_tests integer not null, "
                "recorded_at timestamp with time zone not null default current_timestamp)"
            )
            con.execute(
                f"insert or replace into {SCHEMA}.{PASSES} (basis, run_id, unit_tests) "
                "values (?, ?, ?)",
                [basis, run_id, unit_tests],
            )
