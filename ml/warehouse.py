"""Warehouse I/O of the forecaster behind one small protocol (DuckDB here, BigQuery later).

Only identifiers from code constants (or validated schema names) reach SQL; values are
bound parameters or registered DataFrames. Each call opens and closes its own connection so
that the DuckDB file lock is held only while ML actually reads or writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

COUNTS_TABLE = "fct_incident_counts"
COUNTS_COLUMNS = ["period_start", "freq", "geo_level", "geo", "incidents", "is_complete_period"]

# Output tables of schema ``ml`` (column -> portable SQL type).
TABLES: dict[str, dict[str, str]] = {
    "forecasts": {
        "forecast_run_id": "VARCHAR",
        "model_version": "VARCHAR",
        "freq": "VARCHAR",
        "geo_level": "VARCHAR",
        "geo": "VARCHAR",
        "period_start": "DATE",
        "yhat": "DOUBLE",
        "yhat_lower_80": "DOUBLE",
        "yhat_upper_80": "DOUBLE",
        "yhat_lower_95": "DOUBLE",
        "yhat_upper_95": "DOUBLE",
        "created_at": "TIMESTAMP",
    },
    "model_performance": {
        "forecast_run_id": "VARCHAR",
        "model_version": "VARCHAR",
        "freq": "VARCHAR",
        "geo_level": "VARCHAR",
        "method": "VARCHAR",
        "is_selected": "BOOLEAN",
        "n": "BIGINT",
        "mae": "DOUBLE",
        "rmse": "DOUBLE",
        "mase": "DOUBLE",
        "mae_seasonal_naive": "DOUBLE",
        "coverage_80": "DOUBLE",
        "coverage_95": "DOUBLE",
        "backtest_origins": "BIGINT",
        "created_at": "TIMESTAMP",
    },
    "model_runs": {
        "run_id": "VARCHAR",
        "model_version": "VARCHAR",
        "status": "VARCHAR",
        "trained_at": "TIMESTAMP",
        "data_cutoff": "DATE",
        "params": "VARCHAR",
        "metrics": "VARCHAR",
        "score": "DOUBLE",
        "status_reason": "VARCHAR",
        "promoted_at": "TIMESTAMP",
        "updated_at": "TIMESTAMP",
    },
}

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class WarehouseError(RuntimeError):
    """A warehouse read or write failed (message is one line, safe to show)."""


def checked_identifier(name: str) -> str:
    """``name`` if it is a plain SQL identifier (schema names come from arguments)."""
    if not _IDENT.match(name):
        raise WarehouseError(f"invalid schema or table name {name!r}")
    return name


class Warehouse(Protocol):
    """What the forecaster needs from a warehouse."""

    def read_counts(self, marts_schema: str = "marts") -> pd.DataFrame:
        """Rows of ``<marts_schema>.fct_incident_counts`` (COUNTS_COLUMNS)."""
        ...

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole ML table; empty with the table's columns when it does not exist."""
        ...

    def replace_rows(
        self, frame: pd.DataFrame, schema: str, table: str, key_columns: Sequence[str]
    ) -> int:
        """Delete rows whose key values appear in ``frame``, then insert ``frame`` (atomic)."""
        ...


class DuckDBWarehouse:
    """The Warehouse protocol on a DuckDB file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def _connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if read_only and not self.path.exists():
            raise WarehouseError(f"warehouse file {self.path} does not exist")
        try:
            return duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open {self.path}: {str(exc).splitlines()[0]}") from exc

    def read_counts(self, marts_schema: str = "marts") -> pd.DataFrame:
        """Rows of ``<marts_schema>.fct_incident_counts`` (COUNTS_COLUMNS)."""
        schema = checked_identifier(marts_schema)
        with self._connect(read_only=True) as con:
            if not self._exists(con, schema, COUNTS_TABLE):
                raise WarehouseError(
                    f"{schema}.{COUNTS_TABLE} does not exist: build the marts first (dbt build)"
                )
            cols = ", ".join(COUNTS_COLUMNS)
            return con.execute(f"select {cols} from {schema}.{COUNTS_TABLE}").df()

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole ML table; empty with the table's columns when it does not exist."""
        schema, columns = checked_identifier(schema), TABLES[table]
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        if not self.path.exists():
            return empty
        with self._connect(read_only=True) as con:
            if not self._exists(con, schema, table):
                return empty
            return con.execute(f"select {', '.join(columns)} from {schema}.{table}").df()

    def replace_rows(
        self, frame: pd.DataFrame, schema: str, table: str, key_columns: Sequence[str]
    ) -> int:
        """Delete rows whose key values appear in ``frame``, then insert ``frame`` (atomic)."""
        schema, columns = checked_identifier(schema), TABLES[table]
        unknown = [c for c in key_columns if c not in columns]
        if unknown or set(frame.columns) != set(columns):
            raise WarehouseError(f"{table}: columns do not match the table definition")
        keys = ", ".join(key_columns)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(f"create schema if not exists {schema}")
            ddl = ", ".join(f"{c} {t}" for c, t in columns.items())
            con.execute(f"create table if not exists {schema}.{table} ({ddl})")
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

    @staticmethod
    def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
        row = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
        return bool(row and row[0])
