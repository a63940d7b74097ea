"""The pseudonym key store on BigQuery: ``<prefix>restricted``, written by load jobs only.

A load job's configuration and history hold no row values, unlike a query's text, so the key
never appears in BigQuery's job history. (What a fingerprint is and when a key change is
refused: ``orchestration.pseudonym``.)

Environment variables read here: none.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from engines.base import StoredFingerprint

SCHEMA = "restricted"
KEY_TABLE = "pseudonym_key"
FINGERPRINT_TABLE = "pseudonym_fingerprints"
_FINGERPRINT_COLUMNS = ("scope", "algorithm", "salt", "digest", "recorded_at")


class BigQueryKeyStore:
    """The key store in ``<prefix>restricted`` on BigQuery, written by load jobs only.

    A load job's configuration and history hold no row values, unlike a query's text.
    """

    def __init__(self, client: Any, project: str, dataset_prefix: str, location: str) -> None:
        self.client = client
        self.project = project
        self.prefix = dataset_prefix
        self.location = location

    def _ref(self, table: str, dataset: str = SCHEMA) -> str:
        return f"{self.project}.{self.prefix}{dataset}.{table}"

    def _load(self, table: str, rows: list[dict[str, object]], fields: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from google.cloud import bigquery

        dataset = bigquery.Dataset(f"{self.project}.{self.prefix}{SCHEMA}")
        dataset.location = self.location
        self.client.create_dataset(dataset, exists_ok=True)
        schema = [bigquery.SchemaField(n, t, mode="REQUIRED") for n, (t, _) in fields.items()]
        self.client.create_table(bigquery.Table(self._ref(table), schema=schema), exists_ok=True)
        arrow_schema = pa.schema([(n, a) for n, (_, a) in fields.items()])
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema), buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(
            schema=schema,
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        self.client.load_table_from_file(buffer, self._ref(table), job_config=config).result()

    def write_key(self, key: str) -> None:
        """Replace the one-row key table by a load job."""
        import pyarrow as pa

        self._load(KEY_TABLE, [{"pseudonym_key": key}], {"pseudonym_key": ("STRING", pa.string())})

    def _fingerprints(self) -> list[dict[str, Any]]:
        from google.api_core.exceptions import NotFound

        try:
            rows = self.client.query(
                f"select {', '.join(_FINGERPRINT_COLUMNS)} "
                f"from `{self.project}`.`{self.prefix}{SCHEMA}`.`{FINGERPRINT_TABLE}`"
            ).result()
        except NotFound:
            return []
        return [dict(zip(_FINGERPRINT_COLUMNS, row.values(), strict=True)) for row in rows]

    def fingerprint(self, scope: str) -> StoredFingerprint | None:
        """The fingerprint recorded for ``scope``, or None."""
        for row in self._fingerprints():
            if row["scope"] == scope:
                return StoredFingerprint(row["salt"], row["digest"], row["algorithm"])
        return None

    def record(self, scope: str, fingerprint: StoredFingerprint) -> None:
        """Replace the fingerprint table with ``scope`` updated (one load job)."""
        import pyarrow as pa

        rows = [r for r in self._fingerprints() if r["scope"] != scope]
        rows.append(
            {
                "scope": scope,
                "algorithm": fingerprint.algorithm,
                "salt": fingerprint.salt,
                "digest": fingerprint.digest,
                "recorded_at": datetime.now(UTC),
            }
        )
        text = ("STRING", pa.string())
        fields = dict.fromkeys(("scope", "algorithm", "salt", "digest"), text)
        fields["recorded_at"] = ("TIMESTAMP", pa.timestamp("us", tz="UTC"))
        self._load(FINGERPRINT_TABLE, rows, fields)

    def has_marts(self, schema_prefix: str) -> bool:
        """True when ``<prefix><schema_prefix>marts`` holds a table."""
        from google.api_core.exceptions import NotFound

        try:
            tables = self.client.list_tables(f"{self.project}.{self.prefix}{schema_prefix}marts")
            return any(t.table_type == "TABLE" for t in tables)
        except NotFound:
            return False
