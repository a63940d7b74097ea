"""The forecaster's store on a DuckDB file; table DDL derived from the Arrow schemas ``ml/`` gives.

Each call opens and closes its own connection, so the file lock is held only while ML reads or
writes. Only identifiers from the given schemas (or checked names) reach SQL; frames are
registered, never formatted into SQL.

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from engines.base import WarehouseError, checked_identifier, logical_type
from engines.duckdb.connect import connect

# DuckDB's type for each kind of Arrow type (naive timestamps stay naive).
SQL_TYPES = {
    "string": "VARCHAR",
    "float": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_tz": "TIMESTAMPTZ",
}


def sql_type(arrow: pa.DataType) -> str:
    """The DuckDB type of an Arrow type."""
    return SQL_TYPES[logical_type(arrow)]


def ddl(schema: pa.Schema) -> str:
    """Column definitions of ``schema`` for ``create table``."""
    return ", ".join(f"{checked_identifier(f.name)} {sql_type(f.type)}" for f in schema)


class DuckDBMLStore:
    """``engines.base.MLStore`` on the DuckDB file ``path``."""

    def __init__(self, path: Path | str, tables: Mapping[str, pa.Schema], counts_table: str):
        self.path = Path(path)
        self.tables = dict(tables)
        self.counts_table = counts_table

    def _connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        try:
            return connect(self.path, read_only=read_only, wait_seconds=0)
        except WarehouseError as exc:
            cause = exc.__cause__
            detail = f": {str(cause).splitlines()[0]}" if cause else ""
            raise WarehouseError(f"{exc}{detail}") from exc

    def _columns(self, table: str) -> list[str]:
        if table not in self.tables:
            raise WarehouseError(f"{table} is not one of the ML store's tables")
        return self.tables[table].names

    def read_counts(self, marts_schema: str = "marts") -> pd.DataFrame:
        """Rows of ``<marts_schema>.<counts_table>`` (its schema's columns)."""
        schema, table = checked_identifier(marts_schema), self.counts_table
        with self._connect(read_only=True) as con:
            if not _exists(con, schema, table):
                raise WarehouseError(
                    f"{schema}.{table} does not exist: build the marts first (dbt build)"
                )
            cols = ", ".join(self._columns(table))
            return con.execute(f"select {cols} from {schema}.{table}").df()

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole table; empty with the table's columns when it does not exist."""
        schema, columns = checked_identifier(schema), self._columns(table)
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        if not self.path.exists():
            return empty
        with self._connect(read_only=True) as con:
            if not _exists(con, schema, table):
                return empty
            return con.execute(f"select {', '.join(columns)} from {schema}.{table}").df()

    def replace_rows(
        self, frame: pd.DataFrame, schema: str, table: str, key_columns: Sequence[str]
    ) -> int:
        """Delete rows whose key values appear in ``frame``, then insert ``frame`` (atomic)."""
        schema, columns = checked_identifier(schema), self._columns(table)
        unknown = [c for c in key_columns if c not in columns]
        if unknown or set(frame.columns) != set(columns):
            raise WarehouseError(f"{table}: columns do not match the table definition")
        keys = ", ".join(key_columns)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table if not exists {schema}.{table} ({ddl(self.tables[table])})")
            con.register("incoming", frame[list(columns)])
            con.execute("begin transaction")
            try:
                con.execute(
                    f"delete from {schema}.{table} where ({keys}) in "
                    f"(select distinct {keys} from incoming)"
                )
                con.execute(f"insert into {schema}.{table} by name select * from incoming")
                con.execute("commit")
            except duckdb.Error as exc:
                con.execute("rollback")
                raise WarehouseError(f"writing {schema}.{table} failed: {exc}") from exc
            finally:
                con.unregister("incoming")
        return len(frame)


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])
