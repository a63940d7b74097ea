"""The run ledger store on BigQuery: the tables ``<prefix>ops.run_ledger`` and
``<prefix>ops.unit_test_passes`` (the digests of code whose unit tests passed).

The row declared once in ``engines/ledger_table.py``; JSON columns are STRING holding JSON
text, timestamps are TIMESTAMP (UTC). Every value is a query parameter: an upsert is one
``MERGE``, marking a run abandoned one ``UPDATE``. The run lock stays local (``<file>.lock``).

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engines.base import WarehouseError, checked_identifier
from engines.bigquery.ml_store import field_type
from engines.errors import WarehouseUnreachable
from engines.ledger_table import COLUMNS, LEDGER, PASSES, SCHEMA, TABLE, is_json

# BigQuery's type of each column of the one declaration (JSON is STRING holding JSON text).
_TYPES = {f.name: "STRING" if is_json(f) else field_type(f.type) for f in LEDGER}


class BigQueryLedger:
    """``<prefix>ops.run_ledger`` in ``project``."""

    def __init__(self, client: Any, project: str, dataset_prefix: str, location: str) -> None:
        if dataset_prefix:
            checked_identifier(dataset_prefix)
        self.client = client
        self.dataset = f"{project}.{dataset_prefix}{SCHEMA}"
        self.location = location
        self.where = f"BigQuery table {self.dataset}.{TABLE}"
        self._ref = f"`{project}`.`{dataset_prefix}{SCHEMA}`.`{TABLE}`"
        self._passes = f"`{project}`.`{dataset_prefix}{SCHEMA}`.`{PASSES}`"
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        from google.cloud import bigquery

        dataset = bigquery.Dataset(self.dataset)
        dataset.location = self.location
        self.client.create_dataset(dataset, exists_ok=True)
        schema = [bigquery.SchemaField(c, t) for c, t in _TYPES.items()]
        self.client.create_table(
            bigquery.Table(f"{self.dataset}.{TABLE}", schema=schema), exists_ok=True
        )
        self._ready = True

    def _query(self, sql: str, params: Mapping[str, tuple[str, Any]]) -> Any:
        """Run ``sql``; Google's errors become the engine's (NotFound passes through)."""
        from google.api_core import exceptions as google
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter(name, kind, value)
                for name, (kind, value) in params.items()
            ]
        )
        try:
            return self.client.query(sql, job_config=config).result()
        except google.NotFound:
            raise
        except (google.ServerError, google.TooManyRequests, OSError) as exc:
            raise WarehouseUnreachable(f"the run ledger ({self.where}) did not answer") from exc
        except google.GoogleAPICallError as exc:
            raise WarehouseError(
                f"the run ledger ({self.where}) failed: {str(exc).splitlines()[0]}"
            ) from exc

    def upsert(self, row: Mapping[str, Any]) -> None:
        """Insert or replace the row keyed by ``run_id`` (one MERGE)."""
        self._ensure()
        source = ", ".join(f"@{c} as {c}" for c in COLUMNS)
        updates = ", ".join(f"{c} = s.{c}" for c in COLUMNS if c != "run_id")
        cols = ", ".join(COLUMNS)
        values = ", ".join(f"s.{c}" for c in COLUMNS)
        self._query(
            f"merge {self._ref} t using (select {source}) s on t.run_id = s.run_id "
            f"when matched then update set {updates} "
            f"when not matched then insert ({cols}) values ({values})",
            {c: (_TYPES[c], row[c]) for c in COLUMNS},
        )

    def rows(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        """Newest first; no dataset or table yet means no runs yet."""
        from google.api_core.exceptions import NotFound

        where = "where status = @status " if status else ""
        params: dict[str, tuple[str, Any]] = {"limit": ("INT64", limit)}
        if status:
            params["status"] = ("STRING", status)
        try:
            result = self._query(
                f"select {', '.join(COLUMNS)} from {self._ref} {where}"
                "order by started_at desc, run_id desc limit @limit",
                params,
            )
        except NotFound:
            return []
        return [dict(zip(COLUMNS, r.values(), strict=True)) for r in result]

    def abandon(self, run_id: str, ended_at: Any, steps_json: str, reason: str) -> None:
        """Mark ``run_id`` abandoned, appending ``reason`` to its error."""
        self._query(
            f"update {self._ref} set status = 'abandoned', ended_at = @ended_at, "
            "steps = @steps, error = concat(coalesce(concat(error, '; '), ''), @reason) "
            "where run_id = @run_id",
            {
                "ended_at": ("TIMESTAMP", ended_at),
                "steps": ("STRING", steps_json),
                "reason": ("STRING", reason),
                "run_id": ("STRING", run_id),
            },
        )

    def unit_tests_passed(self, basis: str) -> tuple[str, int] | None:
        """``(run id, unit tests)`` recorded for ``basis``; no table yet means none."""
        from google.api_core.exceptions import NotFound

        try:
            rows = list(
                self._query(
                    f"select run_id, unit_tests from {self._passes} where basis = @basis limit 1",
                    {"basis": ("STRING", basis)},
                )
            )
        except NotFound:
            return None
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def record_unit_tests_passed(self, basis: str, run_id: str, unit_tests: int) -> None:
        """Record (or replace) the pass of ``basis`` by ``run_id`` (one MERGE)."""
        from google.cloud import bigquery

        self._ensure()
        schema = [
            bigquery.SchemaField("basis", "STRING"),
            bigquery.SchemaField("run_id", "STRING"),
            bigquery.SchemaField("unit_tests", "INT64"),
            bigquery.SchemaField("recorded_at", "TIMESTAMP"),
        ]
        self.client.create_table(
            bigquery.Table(f"{self.dataset}.{PASSES}", schema=schema), exists_ok=True
        )
        self._query(
            f"merge {self._passes} t using (select @basis as basis) s on t.basis = s.basis "
            "when matched then update set run_id = @run_id, unit_tests = @unit_tests, "
            "recorded_at = current_timestamp() "
            "when not matched then insert (basis, run_id, unit_tests, recorded_at) "
            "values (@basis, @run_id, @unit_tests, current_timestamp())",
            {
                "basis": ("STRING", basis),
                "run_id": ("STRING", run_id),
                "unit_tests": ("INT64", unit_tests),
            },
        )
