"""Everything engine-specific, behind one interface (``engines/base.py``).

Orchestration builds ONE engine per command from plain setting values and hands it down::

    engine = engines.engine_for(target, duckdb_path=..., gcp_project=..., bq_location=...)
    engine.landing(), engine.dbt_env(), engine.ml_store(...), engine.prepare_audit(...),
    engine.publish(...), engine.key_store(), engine.ledger(), engine.reader()

One subpackage per engine: ``engines/duckdb/`` (targets ``dev``/``ci``, the embedded default)
and ``engines/bigquery/`` (target ``prod``). ``engines/env.py`` is the one env-override helper,
``engines/errors.py`` the typed transient errors. This package imports no other Blotter package.

Environment variables read here: none.
"""

from __future__ import annotations

from pathlib import Path

from engines.base import Engine, LedgerStore, PublishBlocked, PublishResult, WarehouseError
from engines.errors import DestinationError

TARGETS = ("dev", "ci", "prod")
__all__ = [
    "DestinationError",
    "Engine",
    "LedgerStore",
    "PublishBlocked",
    "PublishResult",
    "WarehouseError",
    "engine_for",
    "local_ledger",
    "warehouse_hint",
]


def engine_for(
    target: str,
    *,
    duckdb_path: Path,
    gcp_project: str | None = None,
    bq_location: str = "US",
    bq_dataset_prefix: str = "",
    bq_auth_method: str = "oauth",
    bq_keyfile: str | None = None,
    bq_api_endpoint: str | None = None,
) -> Engine:
    """The engine of ``target``: DuckDB for ``dev``/``ci``, BigQuery for ``prod``.

    ``duckdb_path`` is the warehouse file (DuckDB) or the local file holding the run ledger
    next to the run lock (BigQuery).

    Raises:
        DestinationError: an unknown target, or incomplete BigQuery settings for ``prod``
            (one line naming the setting).
    """
    if target in ("dev", "ci"):
        from engines.duckdb import DuckDBEngine

        return DuckDBEngine(Path(duckdb_path), target)
    if target != "prod":
        raise DestinationError(f"unknown target {target!r}; use {', '.join(TARGETS)}")
    from engines.bigquery import BigQueryEngine, BigQueryTarget

    bq = BigQueryTarget(
        project=gcp_project or "",
        location=bq_location,
        dataset_prefix=bq_dataset_prefix,
        auth_method=bq_auth_method,
        keyfile=bq_keyfile,
        api_endpoint=bq_api_endpoint,
    )
    return BigQueryEngine(bq, Path(duckdb_path), target)


def local_ledger(path: Path) -> LedgerStore:
    """The run ledger in the local warehouse file ``path`` (``blotter runs``, tests)."""
    from engines.duckdb.ledger import DuckDBLedger

    return DuckDBLedger(Path(path))


def warehouse_hint(text: str) -> str | None:
    """What to tell the operator about an engine's failure message (a held or corrupt file), or
    None. Wording only; retries are decided by type (``engines.errors.as_transient``)."""
    from engines.duckdb.hints import warehouse_hint as duckdb_hint

    return duckdb_hint(text)
