"""The BigQuery engine: the ``prod`` target, datasets ``<prefix><schema>`` in one GCP project.

One google-cloud-bigquery client per engine (made on first use), shared by publish, the ML
store, the key store, the run ledger (``<prefix>ops.run_ledger``) and the reader; dlt makes its
own for landing. The run lock is a local file: ``<BLOTTER_DUCKDB_PATH>.lock`` (``local_path``
also locates dlt's working directory).

Environment variables read here: none (the values are passed in).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyarrow as pa

from engines.base import AUDIT_PREFIX, PUBLISHED_SCHEMAS, PublishResult, StoredFingerprint
from engines.bigquery import publish
from engines.bigquery.key_store import BigQueryKeyStore
from engines.bigquery.landing import landing
from engines.bigquery.ledger import BigQueryLedger
from engines.bigquery.ml_store import BigQueryMLStore
from engines.bigquery.target import BigQueryTarget, bigquery_client

# Unit tests check model logic on fixtures: CI's job, not every prod build's (each is a job).
_NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


class BigQueryEngine:
    """``engines.base.Engine`` on the BigQuery project ``bq``."""

    name = "bigquery"
    is_shared = True

    def __init__(self, bq: BigQueryTarget, local_path: Path, target: str = "prod") -> None:
        self.bq = bq
        self.local_path = Path(local_path)
        self.target = target
        self.where = f"BigQuery project {bq.project} (datasets {bq.dataset_prefix}*)"
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The google-cloud-bigquery client of the project (made once)."""
        if self._client is None:
            self._client = bigquery_client(self.bq)
        return self._client

    def landing(self) -> AbstractContextManager[Any]:
        """dlt's BigQuery destination landing in ``<prefix>raw``."""
        return landing(self.bq)

    def dbt_env(self) -> dict[str, str | None]:
        """The values ``profiles.yml``'s prod output reads."""
        b = self.bq
        return {
            "BLOTTER_TARGET": self.target,
            "BLOTTER_GCP_PROJECT": b.project,
            "BLOTTER_BQ_DATASET_PREFIX": b.dataset_prefix,
            "BLOTTER_BQ_LOCATION": b.location,
            "BLOTTER_BQ_AUTH_METHOD": b.auth_method,
            "BLOTTER_BQ_KEYFILE": b.keyfile,
            "BLOTTER_BQ_API_ENDPOINT": b.api_endpoint,
        }

    def dbt_extra_args(self, command: str) -> tuple[str, ...]:
        """Builds skip unit tests (each would be a query job)."""
        return _NO_UNIT_TESTS if command == "build" else ()

    def after_dbt(self) -> None:
        """Nothing stays open."""

    def count_rows(self, relations: Sequence[str]) -> dict[str, int]:
        """dbt-bigquery reports row counts itself."""
        return {}

    def ml_store(self, tables: Mapping[str, pa.Schema], counts_table: str) -> BigQueryMLStore:
        """The forecaster's store in ``<prefix><schema>`` datasets."""
        return BigQueryMLStore(
            self.client, tables, counts_table, self.bq.dataset_prefix, self.bq.location
        )

    def build_prefixes(self) -> dict[str, str]:
        """``audit_`` for every schema: the audit datasets are copied over the published ones."""
        return {schema: AUDIT_PREFIX for schema in PUBLISHED_SCHEMAS}

    def prepare_audit(
        self,
        schemas: Sequence[str] = PUBLISHED_SCHEMAS,
        tables: Collection[tuple[str, str]] | None = None,
        *,
        catch_up: Collection[tuple[str, str]] = (),
        levelled: Mapping[tuple[str, str], tuple[str, tuple[str, ...] | None]] | None = None,
        basis: str | None = None,
    ) -> int:
        """Copy the published ``tables`` (None: all) into fresh audit datasets (copy jobs).

        ``catch_up``, ``levelled`` and ``basis`` are not used: the audit datasets are deleted at
        publish, so there is no previous state to continue from."""
        return publish.prepare_audit(self.client, self.bq, schemas, tables=tables)

    def drop_audit(self, schemas: Sequence[str] = PUBLISHED_SCHEMAS) -> None:
        """Delete the audit datasets of ``schemas``."""
        publish.drop_audit(self.client, self.bq, schemas)

    def publish(
        self,
        schemas: Sequence[str] = PUBLISHED_SCHEMAS,
        *,
        failing_tests: Sequence[str] = (),
        fingerprint: tuple[str, StoredFingerprint] | None = None,
        recreate_views: Callable[[], None] | None = None,
    ) -> PublishResult:
        """Copy jobs, then ``recreate_views``, then the fingerprint (no multi-table atomicity)."""
        result = publish.publish(
            self.client,
            self.bq,
            failing_tests=failing_tests,
            schemas=schemas,
            recreate_views=recreate_views,
        )
        if fingerprint is not None:
            self.key_store().record(*fingerprint)
        return result

    def key_store(self) -> BigQueryKeyStore:
        """``<prefix>restricted`` in the project."""
        return BigQueryKeyStore(
            self.client, self.bq.project, self.bq.dataset_prefix, self.bq.location
        )

    def ledger(self) -> BigQueryLedger:
        """``<prefix>ops.run_ledger`` in the project."""
        return BigQueryLedger(
            self.client, self.bq.project, self.bq.dataset_prefix, self.bq.location
        )

    def reader(self) -> Any:
        """A read-only reader of the published datasets (``engines.bigquery.reader``)."""
        from engines.bigquery.reader import BigQueryReader

        return BigQueryReader(
            self.client, self.bq.project, self.bq.dataset_prefix, self.bq.location
        )
