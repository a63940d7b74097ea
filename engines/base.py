"""The engine seam: what every warehouse engine gives the rest of Blotter.

One object per command, built by :func:`engines.engine_for` from plain values::

    engine = engine_for(settings.target, duckdb_path=..., gcp_project=..., ...)
    with engine.landing() as destination: ingest(..., destination=destination)
    run_dbt(..., env=engine.dbt_env())
    engine.prepare_audit(("marts", "ml")); ...; engine.publish(("marts", "ml"), fingerprint=fp)
    store = engine.ml_store(tables, "fct_incident_counts")  # ml/ gives the Arrow schemas

Callers never ask which engine they hold. Identifiers reaching SQL come from code constants or
:func:`checked_identifier`; values are bound parameters or loaded files.

Environment variables read here: none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import pandas as pd
import pyarrow as pa

AUDIT_PREFIX = "audit_"
# Published schemas, in publish order. Identifiers in SQL come only from this constant.
PUBLISHED_SCHEMAS: tuple[str, ...] = ("staging", "intermediate", "marts", "snapshots", "ml")


def logical_type(arrow: pa.DataType) -> str:
    """The kind of an Arrow type that engines map to their SQL types (``tz`` marks an aware
    timestamp); each engine keeps one dict from these names to its own types.

    Raises:
        WarehouseError: an Arrow type no ML table uses.
    """
    checks = (
        ("string", pa.types.is_string),
        ("float", pa.types.is_floating),
        ("integer", pa.types.is_integer),
        ("boolean", pa.types.is_boolean),
        ("date", pa.types.is_date),
    )
    for name, check in checks:
        if check(arrow):
            return name
    if pa.types.is_timestamp(arrow):
        return "timestamp" if arrow.tz is None else "timestamp_tz"
    raise WarehouseError(f"no warehouse type for Arrow type {arrow}")


def landing_state_dir(local_path: Path) -> Path:
    """dlt's working directory for a warehouse: ``<dir>/dlt_pipelines/<stem>`` of its local file.

    Next to the local file on every engine (as before ingestion took it as an argument), so each
    warehouse keeps its own pipeline state.
    """
    return local_path.parent / "dlt_pipelines" / local_path.stem


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class WarehouseError(RuntimeError):
    """A warehouse read or write failed, or the warehouse cannot be opened (one line)."""


def checked_identifier(name: str) -> str:
    """``name`` if it is a plain SQL identifier (schema names come from arguments)."""
    if not _IDENT.match(name):
        raise WarehouseError(f"invalid schema or table name {name!r}")
    return name


class PublishBlocked(RuntimeError):
    """Error-severity tests failed: nothing was published. The message names the tests."""

    def __init__(
        self, failing_tests: Sequence[str], outputs: dict[str, object] | None = None
    ) -> None:
        self.failing_tests = list(failing_tests)
        # Test counts of the build that failed, for the run ledger.
        self.outputs = outputs or {"failing_tests": self.failing_tests}
        names = ", ".join(self.failing_tests[:10])
        more = f" (+{len(self.failing_tests) - 10} more)" if len(self.failing_tests) > 10 else ""
        super().__init__(
            f"{len(self.failing_tests)} error-severity test(s) failed, published schemas left "
            f"unchanged: {names}{more}"
        )


@dataclass
class PublishResult:
    """What a publish replaced."""

    schemas: list[str] = field(default_factory=list)
    tables: int = 0
    views: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the ledger and the run summary."""
        return {"schemas": self.schemas, "tables": self.tables, "views": self.views}


class StoredFingerprint(NamedTuple):
    """A pseudonym-key fingerprint as stored (orchestration makes and checks it)."""

    salt: str
    digest: str
    algorithm: str


class MLStore(Protocol):
    """Reads and writes of the forecaster (tables given as Arrow schemas by ``ml/``)."""

    def read_counts(self, marts_schema: str = "marts") -> pd.DataFrame:
        """Rows of the count mart in ``marts_schema`` (WarehouseError when it is missing)."""
        ...

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole table; empty with the table's columns when it does not exist."""
        ...

    def replace_rows(
        self, frame: pd.DataFrame, schema: str, table: str, key_columns: Sequence[str]
    ) -> int:
        """Delete rows whose key values appear in ``frame``, then insert ``frame`` (atomic)."""
        ...


class KeyStore(Protocol):
    """Where the pseudonym key and its fingerprints live (``<prefix>restricted``)."""

    def write_key(self, key: str) -> None:
        """Make ``restricted.pseudonym_key`` hold exactly ``key``."""

    def fingerprint(self, scope: str) -> StoredFingerprint | None:
        """The fingerprint recorded for ``scope``, or None."""

    def record(self, scope: str, fingerprint: StoredFingerprint) -> None:
        """Record ``fingerprint`` for ``scope`` (replacing the previous one)."""

    def has_marts(self, schema_prefix: str) -> bool:
        """True when ``<schema_prefix>marts`` holds any table."""


class LedgerStore(Protocol):
    """Rows of ``ops.run_ledger`` (orchestration.ledger owns their meaning)."""

    where: str

    def upsert(self, row: Mapping[str, Any]) -> None:
        """Insert or replace the row keyed by ``row['run_id']``."""

    def rows(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        """Newest first (``status``: only those); JSON columns still as text."""

    def abandon(self, run_id: str, ended_at: Any, steps_json: str, reason: str) -> None:
        """Mark a ``running`` row abandoned, appending ``reason`` to its error."""

    def unit_tests_passed(self, basis: str) -> tuple[str, int] | None:
        """``(run id, unit tests)`` of the build that recorded ``basis`` in
        ``ops.unit_test_passes``, or None (``orchestration.unit_test_memo``)."""

    def record_unit_tests_passed(self, basis: str, run_id: str, unit_tests: int) -> None:
        """Record that ``unit_tests`` dbt unit tests passed on ``basis`` in ``run_id``."""


class Engine(Protocol):
    """Everything engine-specific for one target (see the module docstring)."""

    name: str
    target: str
    # The local file next to which the run lock and dlt's working directory live.
    local_path: Path
    # True for a shared warehouse: the development pseudonym key is refused there.
    is_shared: bool
    # Where the warehouse is, for messages (a file path, or a project and dataset prefix).
    where: str

    def landing(self) -> AbstractContextManager[Any]:
        """dlt destination for ``raw`` (dataset naming set up for the block)."""
        ...

    def dbt_env(self) -> dict[str, str | None]:
        """The environment ``profiles.yml`` reads for this target."""
        ...

    def dbt_extra_args(self, command: str) -> tuple[str, ...]:
        """Extra dbt CLI arguments this engine wants for ``command``."""
        ...

    def after_dbt(self) -> None:
        """Release what an in-process dbt call left open."""
        ...

    def count_rows(self, relations: Sequence[str]) -> dict[str, int]:
        """Row counts of dbt-built relations the adapter did not report ({} when it does)."""
        ...

    def ml_store(self, tables: Mapping[str, pa.Schema], counts_table: str) -> MLStore:
        """The forecaster's store for ``tables`` (``counts_table`` is the mart it reads)."""
        ...

    def build_prefixes(self) -> dict[str, str]:
        """``{published schema: prefix}`` of the schemas this command builds in.

        ``audit_`` on BigQuery (copied over the published datasets); on DuckDB the colour of
        each schema that is not live (blue/green, the publish flips views). The same for the
        whole command.
        """
        ...

    def prepare_audit(
        self,
        schemas: Sequence[str] = PUBLISHED_SCHEMAS,
        tables: Collection[tuple[str, str]] | None = None,
        *,
        catch_up: Collection[tuple[str, str]] = (),
        levelled: Mapping[tuple[str, str], tuple[str, tuple[str, ...] | None]] | None = None,
        basis: str | None = None,
    ) -> int:
        """Reset the build schemas of ``schemas``, seeded with copies of published tables.

        ``tables``: the ``(schema, table)`` pairs a full build continues from (incremental
        models, snapshots, the ML store); None copies every published table of ``schemas``.
        ``catch_up``: those of ``tables`` an engine that keeps the previous published state
        (DuckDB) may leave as they are there, when that state is of ``basis`` (the build's code,
        vars and key; None: never). ``levelled``: those it may bring level with the live state
        by moving the rows that differ, with their key and compared columns (None: all;
        ``engines.duckdb.level``). Returns the number of tables copied.
        """
        ...

    def drop_audit(self, schemas: Sequence[str] = PUBLISHED_SCHEMAS) -> None:
        """Remove the build schemas of ``schemas``."""
        ...

    def publish(
        self,
        schemas: Sequence[str] = PUBLISHED_SCHEMAS,
        *,
        failing_tests: Sequence[str] = (),
        fingerprint: tuple[str, StoredFingerprint] | None = None,
        recreate_views: Callable[[], None] | None = None,
    ) -> PublishResult:
        """Publish the build schemas; record ``fingerprint`` as ``(scope, fingerprint)``.

        ``recreate_views`` recreates the views in the published schemas (dbt), for engines
        that cannot copy a view's definition; others ignore it. Raises PublishBlocked when
        ``failing_tests`` is not empty (nothing is touched).
        """
        ...

    def key_store(self) -> KeyStore:
        """The pseudonym key store of this warehouse."""
        ...

    def ledger(self) -> LedgerStore:
        """The run ledger store."""
        ...

    def reader(self) -> Any:
        """A read-only reader for the dashboard and analysts (``engines.reader.Reader``)."""
        ...
