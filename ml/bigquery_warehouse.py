"""The forecaster's Warehouse protocol (``ml.warehouse``) on BigQuery, via google-cloud-bigquery.

Schema names are Blotter's logical ones (``marts``, ``audit_ml`` …); each maps to the dataset
``<dataset_prefix><schema>``. Reads come back with exactly the dtypes ``DuckDBWarehouse``
returns (results go through Arrow and DuckDB's own pandas conversion), so the forecaster sees
the same frames on both engines. ``replace_rows`` loads the frame into a short-lived staging
table, then deletes and inserts in one multi-statement transaction (atomic, like DuckDB's).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ml.warehouse import COUNTS_COLUMNS, COUNTS_TABLE, TABLES, WarehouseError, checked_identifier

# Portable SQL types of ml.warehouse.TABLES -> BigQuery types.
BQ_TYPES = {
    "VARCHAR": "STRING",
    "DOUBLE": "FLOAT64",
    "BIGINT": "INT64",
    "BOOLEAN": "BOOL",
    "DATE": "DATE",
    # DuckDB TIMESTAMP is naive (UTC by convention): BigQuery DATETIME, as the dbt contracts say.
    "TIMESTAMP": "DATETIME",
}
STAGING_TTL = timedelta(hours=1)


def _naive_utc(table: pa.Table) -> pa.Table:
    """BigQuery TIMESTAMPs arrive tz-aware (UTC); DuckDBWarehouse returns naive UTC."""
    for i, fld in enumerate(table.schema):
        if pa.types.is_timestamp(fld.type) and fld.type.tz is not None:
            table = table.set_column(i, fld.name, table.column(i).cast(pa.timestamp("us")))
    return table


def _frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with DuckDB's conversion (the dtypes ``DuckDBWarehouse`` produces)."""
    with duckdb.connect() as con:
        return con.from_arrow(_naive_utc(table)).df()


_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
}


def _parquet(frame: pd.DataFrame, table: str) -> io.BytesIO:
    """``frame`` as Parquet bytes typed like the ML table (exact doubles, dates, timestamps)."""
    schema = pa.schema([(c, _ARROW_TYPES[t]) for c, t in TABLES[table].items()])
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


class BigQueryWarehouse:
    """The Warehouse protocol on a BigQuery project (or a local emulator).

    Args:
        client: a ``google.cloud.bigquery.Client`` (see ``ingestion.destinations.bigquery_client``).
        dataset_prefix: ``BLOTTER_BQ_DATASET_PREFIX``; letters, digits and underscores.
        location: where new datasets are created.
    """

    def __init__(self, client: Any, dataset_prefix: str = "", location: str = "US") -> None:
        if dataset_prefix:
            checked_identifier(dataset_prefix)
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

    def read_counts(self, marts_schema: str = "marts") -> pd.DataFrame:
        """Rows of ``<marts_schema>.fct_incident_counts`` (COUNTS_COLUMNS)."""
        ref = self._ref(marts_schema, COUNTS_TABLE)
        if not self._exists(ref):
            raise WarehouseError(f"{ref} does not exist: build the marts first (dbt build)")
        return self._select(ref, COUNTS_COLUMNS)

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole ML table; empty with the table's columns when it does not exist."""
        columns = TABLES[table]
        ref = self._ref(schema, table)
        if not self._exists(ref):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return self._select(ref, list(columns))

    def _schema(self, table: str) -> list[Any]:
        from google.cloud import bigquery

        return [bigquery.SchemaField(c, BQ_TYPES[t]) for c, t in TABLES[table].items()]

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
            _parquet(frame, table), staging, job_config=config
        ).result()
        return staging

    def replace_rows(
        self, frame: pd.DataFrame, schema: str, table: str, key_columns: Sequence[str]
    ) -> int:
        """Delete rows whose key values appear in ``frame``, then insert ``frame`` (atomic)."""
        columns = TABLES[table]
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
