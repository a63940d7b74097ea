"""The forecaster's store (``engines.base.MLStore``) on BigQuery, via google-cloud-bigquery.

Schema names are Blotter's logical ones (``marts``, ``audit_ml`` …); each maps to the dataset
``<dataset_prefix><schema>``. Reads come back with exactly the dtypes ``DuckDBMLStore``
returns (results go through Arrow and DuckDB's own pandas conversion), so the forecaster sees
the same frames on both engines. Table schemas are the Arrow schemas ``ml/`` gives; the
BigQuery schema is derived from them (naive timestamps are ``DATETIME``). ``replace_rows``
loads the frame into a short-lived staging table, then deletes and inserts in one
multi-statement transaction (atomic, like DuckDB's).

Environment variables read here: none.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engines.base import WarehouseError, checked_identifier, logical_type

STAGING_TTL = timedelta(hours=1)


def _naive_utc(table: pa.Table) -> pa.Table:
    """BigQuery TIMESTAMPs arrive tz-aware (UTC); DuckDBMLStore returns naive UTC."""
    for i, fld in enumerate(table.schema):
        if pa.types.is_timestamp(fld.type) and fld.type.tz is not None:
            table = table.set_column(i, fld.name, table.column(i).cast(pa.timestamp("us")))
    return table


def _frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with DuckDB's conversion (the dtypes ``DuckDBMLStore`` produces)."""
    with duckdb.connect() as con:
        return con.from_arrow(_naive_utc(table)).df()


# BigQuery's type for each kind of Arrow type (naive timestamps are DATETIME, as dbt's contracts).
FIELD_TYPES = {
    "string": "STRING",
    "float": "FLOAT64",
    "integer": "INT64",
    "boolean": "BOOL",
    "date": "DATE",
    "timestamp": "DATETIME",
    "timestamp_tz": "TIMESTAMP",
}


def field_type(arrow: pa.DataType) -> str:
    """The BigQuery type of an Arrow type."""
    return FIELD_TYPES[logical_type(arrow)]


def _parquet(frame: pd.DataFrame, schema: pa.Schema) -> io.BytesIO:
    """``frame`` as Parquet bytes typed like the table (exact doubles, dates, timestamps)."""
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), buffer)
    buffer.seek(0)
    return buffer


def _quoted(ref: str) -> str:
    """```p`.`dataset`.`table``` for ``p.dataset.table``.

    Quoting each part is plain GoogleSQL; it also keeps the emulator's naive check for BigQuery
    ML functions from mistaking ``ml.forecasts`` for ``ML.FORECAST``.
    """
    return ".".join(f"`{part}`" for part in ref.split("."))


class BigQueryMLStore:
    """``engines.base.MLStore`` on a BigQuery project (or a local emulator).

    Args:
        client: a ``google.cloud.bigquery.Client`` (``engines.bigquery.target.bigquery_client``).
        tables: table name -> Arrow schema (``ml/tables.py``).
        counts_table: the count mart ``read_counts`` reads.
        dataset_prefix: ``BLOTTER_BQ_DATASET_PREFIX``; letters, digits and underscores.
        location: where new datasets are created.
    """

    def __init__(
        self,
        client: Any,
        tables: Mapping[str, pa.Schema],
        counts_table: str,
        dataset_prefix: str = "",
        location: str = "US",
    ) -> None:
        if dataset_prefix:
            checked_identifier(dataset_prefix)
        self.tables = dict(tables)
        self.counts_table = counts_table
        self.client = client
        self.project = client.project
        self.dataset_prefix = dataset_prefix
        self.location = location

    def _ref(self, schema: str, table: str) -> str:
        dataset = self.dataset_prefix + checked_identifier(schema)
        return f"{self.project}.{dataset}.{checked_identifier(table)}"

    def _exists(self, ref: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self.client.get_table(ref)
        except NotFound:
            return False
        return True

    def _select(self, ref: str, columns: Sequence[str]) -> pd.DataFrame:
        sql = f"select {', '.join(columns)} from {_quoted(ref)}"
        try:
            arrow = self.client.query(sql).to_arrow(create_bqstorage_client=False)
        except Exception as exc:  # noqa: BLE001 - google errors carry multi-line payloads
            raise WarehouseError(f"reading {ref} failed: {str(exc).splitlines()[0]}") from exc
        return _frame(arrow)

    def _columns(self, table: str) -> list[str]:
        if table not in self.tables:
            raise WarehouseError(f"{table} is not one of the ML store's tables")
        return self.tables[table].names

    def read_counts(self, marts_schema: str = "marts") -> pd.DataFrame:
        """Rows of ``<marts_schema>.<counts_table>`` (its schema's columns)."""
        ref = self._ref(marts_schema, self.counts_table)
        if not self._exists(ref):
            raise WarehouseError(f"{ref} does not exist: build the marts first (dbt build)")
        return self._select(ref, self._columns(self.counts_table))

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole table; empty with the table's columns when it does not exist."""
        columns = self._columns(table)
        ref = self._ref(schema, table)
        if not self._exists(ref):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return self._select(ref, list(columns))

    def _schema(self, table: str) -> list[Any]:
        from google.cloud import bigquery

        return [bigquery.SchemaField(f.name, field_type(f.type)) for f in self.tables[table]]

    def _ensure_table(self, schema: str, table: str) -> str:
        from google.cloud import bigquery

        ref = self._ref(schema, table)
        dataset = bigquery.Dataset(ref.rsplit(".", 1)[0])
        dataset.location = self.location
        self.client.create_dataset(dataset, exists_ok=True)
        self.client.create_table(bigquery.Table(ref, schema=self._schema(table)), exists_ok=True)
        return ref

    def _stage(self, frame: pd.DataFrame, ref: str, table: str) -> str:
        """Load ``frame`` into ``<ref>__incoming_<hex>`` (expires on its own if we crash)."""
        from google.cloud import bigquery

        staging = f"{ref}__incoming_{uuid.uuid4().hex[:12]}"
        created = bigquery.Table(staging, schema=self._schema(table))
        created.expires = datetime.now(UTC) + STAGING_TTL
        self.client.create_table(created)
        config = bigquery.LoadJobConfig(
            schema=self._schema(table),
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        self.client.load_table_from_file(
            _parquet(frame, self.tables[table]), staging, job_config=config
        ).result()
        return staging

    def replace_rows(
        self, frame: pd.DataFrame, schema: str, table: str, key_columns: Sequence[str]
    ) -> int:
        """Delete rows whose key values appear in ``frame``, then insert ``frame`` (atomic)."""
        columns = self._columns(table)
        unknown = [c for c in key_columns if c not in columns]
        if unknown or set(frame.columns) != set(columns):
            raise WarehouseError(f"{table}: columns do not match the table definition")
        ref = self._ensure_table(schema, table)
        staging = self._stage(frame[list(columns)], ref, table)
        cols = ", ".join(columns)
        target, source = _quoted(ref), _quoted(staging)
        match = " and ".join(f"s.{k} = t.{k}" for k in key_columns)
        script = (
            "begin transaction;\n"
            f"delete from {target} t where exists (select 1 from {source} s where {match});\n"
            f"insert into {target} ({cols}) select {cols} from {source};\n"
            "commit transaction;"
        )
        try:
            self.client.query(script).result()
        except Exception as exc:  # noqa: BLE001 - one line, the transaction rolled back
            raise WarehouseError(f"writing {ref} failed: {str(exc).splitlines()[0]}") from exc
        finally:
            self.client.delete_table(staging, not_found_ok=True)
        return len(frame)
