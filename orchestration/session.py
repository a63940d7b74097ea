"""What every command that writes the warehouse does first, in one place.

:func:`writing` checks the warehouse path (``orchestration.warehouse_file``), takes the run lock
(``orchestration.lock``: a second writer exits 2 at once), turns the ledger rows of runs that
died into ``abandoned``, and offers the pseudonym key store (``orchestration.pseudonym``) so the
command can write the key table and refuse a changed key before dbt runs.

Environment variables read here: none (the settings are passed in).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestration import ledger, lock, pseudonym, warehouse_file
from orchestration.errors import OperatorError
from orchestration.logs import get_logger
from orchestration.settings import DEV_PSEUDONYM_KEY, Settings

log = get_logger("session")


def new_lock_id(command: str) -> str:
    """An id for a writing command that has no run id of its own (e.g. ``ingest``)."""
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{command.replace(' ', '-')}-{uuid.uuid4().hex[:6]}"


@dataclass
class WriterSession:
    """A writing command's hold on the warehouse."""

    command: str
    settings: Settings
    target: str
    lock: lock.RunLock
    warehouse: warehouse_file.WarehouseFile
    notes: list[str] = field(default_factory=list)
    _bigquery: tuple[Any, Any] | None = None

    @property
    def is_bigquery(self) -> bool:
        """True for the prod target."""
        return self.target == "prod"

    def bigquery(self) -> tuple[Any, Any]:
        """(BigQueryTarget, client) of the prod target, made once."""
        if self._bigquery is None:
            from ingestion.destinations import bigquery_client
            from orchestration.publish_bigquery import bigquery_target

            target = bigquery_target(self.settings)
            self._bigquery = (target, bigquery_client(target))
        return self._bigquery

    def key_store(self) -> pseudonym.KeyStore:
        """Where the pseudonym key and its fingerprints live for this target."""
        if self.is_bigquery:
            target, client = self.bigquery()
            return pseudonym.BigQueryKeyStore(
                client, target.project, target.dataset_prefix, target.location
            )
        return pseudonym.DuckDBKeyStore(self.settings.duckdb_path)

    def prepare_key(self, schema_prefix: str | None, fix: str = "blotter rekey") -> None:
        """Write the key table; unless ``schema_prefix`` is None, refuse a changed key.

        Raises:
            OperatorError: prod with the development key, or the key changed (names ``fix``).
        """
        key = self.settings.pseudonym_key
        if self.is_bigquery and key == DEV_PSEUDONYM_KEY:
            raise OperatorError("prod needs BLOTTER_PSEUDONYM_KEY (the development key is refused)")
        store = self.key_store()
        if schema_prefix is not None:
            pseudonym.check(store, key, schema_prefix, fix)
        store.write_key(key)


@contextmanager
def writing(
    command: str,
    settings: Settings,
    target: str | None = None,
    run_id: str | None = None,
    create_warehouse: bool = False,
) -> Iterator[WriterSession]:
    """Hold the warehouse for one writing command.

    Raises:
        OperatorError: bad path, or another command holds the lock (exit 2).
        duckdb.Error: the warehouse cannot be opened (corrupt, held by another program).
    """
    checked = warehouse_file.check(settings.duckdb_path, create_warehouse)
    held = lock.acquire(settings.duckdb_path, run_id or new_lock_id(command), command)
    try:
        session = WriterSession(command, settings, target or settings.target, held, checked)
        if checked.note:
            session.notes.append(checked.note)
        for abandoned in ledger.reconcile(settings.duckdb_path):
            log.warning(
                f"run {abandoned} ended without finishing (killed?); marked abandoned",
                extra={"run_id": abandoned},
            )
        yield session
    finally:
        held.release()


@contextmanager
def ingest_guard(settings: Settings) -> Iterator[WriterSession]:
    """:func:`writing` for ``blotter ingest``, which lands in the DuckDB file.

    Exits 2 on a refusal (bad path, another run holds the lock) and 1 when the warehouse cannot
    be opened; the key table is written so that a plain ``dbt build`` works after an ingest.
    """
    from orchestration.app import fail
    from orchestration.errors import describe

    with ExitStack() as stack:
        try:
            held = stack.enter_context(writing("ingest", settings, target="dev"))
            held.prepare_key(None)
        except OperatorError as exc:
            fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. a corrupt warehouse file
            fail(f"cannot open the warehouse {settings.duckdb_path}: {describe(exc)}", code=1)
        yield held
