"""The DuckDB engine: the embedded default (targets ``dev`` and ``ci``), one warehouse file.

Everything lives in the file ``BLOTTER_DUCKDB_PATH`` names: raw landing, dbt's schemas, the ML
tables, the key store and the run ledger; the run lock is ``<file>.lock`` next to it. Builds
write the colour of each schema that is not live, and publishing flips the published views
(blue/green, ``engines.duckdb.colours``).

Environment variables read here: none (the path is passed in).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyarrow as pa

from engines.base import PUBLISHED_SCHEMAS, PublishResult, StoredFingerprint
from engines.duckdb import colours, dbt, publish
from engines.duckdb.connect import connect
from engines.duckdb.key_store import DuckDBKeyStore, record_in
from engines.duckdb.landing import landing
from engines.duckdb.ledger import DuckDBLedger
from engines.duckdb.ml_store import DuckDBMLStore


class DuckDBEngine:
    """``engines.base.Engine`` on the DuckDB file ``path``."""

    name = "duckdb"
    is_shared = False

    def __init__(self, path: Path, target: str = "dev") -> None:
        self.local_path = Path(path)
        self.target = target
        self.where = str(self.local_path)
        self._build_prefixes: dict[str, str] | None = None

    def build_prefixes(self) -> dict[str, str]:
        """The colour each published schema is built in by this command: the one not live.

        Read once and kept, so that every step of the command (dbt's relations, ``ml/``'s
        schemas, the publish) names the same schemas. Each command builds a new engine, and
        ``prepare_audit`` and ``publish`` refuse a colour that has become live since.
        """
        if self._build_prefixes is None:
            if not self.local_path.is_file():
                self._build_prefixes = {s: colours.BLUE for s in PUBLISHED_SCHEMAS}
            else:
                with connect(self.local_path) as con:  # the configuration every write uses
                    self._build_prefixes = colours.build_prefixes(con)
        return dict(self._build_prefixes)

    def landing(self) -> AbstractContextManager[Any]:
        """dlt's DuckDB destination on the warehouse file."""
        return landing(self.local_path)

    def dbt_env(self) -> dict[str, str | None]:
        """``BLOTTER_TARGET`` and ``BLOTTER_DUCKDB_PATH`` for ``profiles.yml``."""
        return dbt.dbt_env(self.target, self.local_path)

    def dbt_extra_args(self, command: str) -> tuple[str, ...]:
        """None: unit tests run with every build here (they cost nothing)."""
        return ()

    def after_dbt(self) -> None:
        """Close the file dbt-duckdb keeps open in this process."""
        dbt.release()

    def count_rows(self, relations: Sequence[str]) -> dict[str, int]:
        """dbt-duckdb reports no row counts: count the relations."""
        return dbt.count_rows(self.local_path, relations)

    def ml_store(self, tables: Mapping[str, pa.Schema], counts_table: str) -> DuckDBMLStore:
        """The forecaster's store in the file."""
        return DuckDBMLStore(self.local_path, tables, counts_table)

    def prepare_audit(
        self,
        schemas: Sequence[str] = PUBLISHED_SCHEMAS,
        tables: Collection[tuple[str, str]] | None = None,
        *,
        catch_up: Collection[tuple[str, str]] = (),
        levelled: Mapping[tuple[str, str], tuple[str, tuple[str, ...] | None]] | None = None,
        basis: str | None = None,
    ) -> int:
        """The build colour ready (one transaction): where it holds a published state of
        ``basis``, ``catch_up`` tables kept and ``levelled`` ones brought level with the live
        colour by moving the rows that differ; the other ``tables`` (None: all) copied."""
        return publish.prepare_audit(
            self.local_path,
            schemas,
            self.build_prefixes(),
            tables,
            catch_up=catch_up,
            levelled=levelled,
            basis=basis,
        )

    def drop_audit(self, schemas: Sequence[str] = PUBLISHED_SCHEMAS) -> None:
        """Drop the build colour of ``schemas``."""
        publish.drop_audit(self.local_path, schemas, self.build_prefixes())

    def publish(
        self,
        schemas: Sequence[str] = PUBLISHED_SCHEMAS,
        *,
        failing_tests: Sequence[str] = (),
        fingerprint: tuple[str, StoredFingerprint] | None = None,
        recreate_views: Callable[[], None] | None = None,
    ) -> PublishResult:
        """One transaction: the published views flipped to the build colour, the fingerprint.

        ``recreate_views`` is not needed: the published views are made here, onto the colour.
        """

        def in_transaction(con: Any) -> None:
            if fingerprint is not None:
                record_in(con, *fingerprint)

        return publish.publish(
            self.local_path,
            failing_tests,
            schemas,
            self.build_prefixes(),
            in_transaction=in_transaction,
        )

    def key_store(self) -> DuckDBKeyStore:
        """``restricted.*`` in the file."""
        return DuckDBKeyStore(self.local_path)

    def ledger(self) -> DuckDBLedger:
        """``ops.run_ledger`` in the file."""
        return DuckDBLedger(self.local_path)

    def reader(self) -> Any:
        """A read-only reader of the file (``engines.duckdb.reader``)."""
        from engines.duckdb.reader import DuckDBReader

        return DuckDBReader(self.local_path)
