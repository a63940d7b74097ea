"""What every command that writes the warehouse does first, in one place.

:func:`engine_of` builds the command's one engine from the settings (``engines.engine_for``).
:func:`writing` checks the warehouse path (``orchestration.warehouse_file``), takes the run lock
(``orchestration.lock``: a second writer exits 2 at once), turns the ledger rows of runs that
died into ``abandoned``, and offers the engine's pseudonym key store so the command can write
the key table and refuse a changed key before dbt runs.

Environment variables read here: none (the settings are passed in).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import engines
from engines.base import Engine
from orchestration import ledger, lock, pseudonym, warehouse_file
from orchestration.errors import OperatorError
from orchestration.logs import get_logger
from orchestration.settings import Settings

log = get_logger("session")


def engine_of(settings: Settings, target: str | None = None) -> Engine:
    """The engine of ``target`` (default: ``BLOTTER_TARGET``), built from the settings.

    Raises:
        DestinationError: unknown target or incomplete BigQuery settings (an operator error).
    """
    s = settings
    return engines.engine_for(
        target or s.target,
        duckdb_path=s.duckdb_path,
        gcp_project=s.gcp_project,
        bq_location=s.bq_location,
        bq_dataset_prefix=s.bq_dataset_prefix,
        bq_auth_method=s.bq_auth_method,
        bq_keyfile=s.bq_keyfile,
        bq_api_endpoint=s.bq_api_endpoint,
    )


def new_lock_id(command: str) -> str:
    """An id for a writing command that has no run id of its own (e.g. ``ingest``)."""
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{command.replace(' ', '-')}-{uuid.uuid4().hex[:6]}"


@dataclass
class WriterSession:
    """A writing command's hold on the warehouse."""

    command: str
    settings: Settings
    engine: Engine
    lock: lock.RunLock
    warehouse: warehouse_file.WarehouseFile
    notes: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        """The command's target (``dev``, ``ci`` or ``prod``)."""
        return self.engine.target

    def key_store(self) -> engines.base.KeyStore:
        """Where the pseudonym key and its fingerprints live for this target."""
        return self.engine.key_store()

    def prepare_key(self, schema_prefix: str | None, fix: str = "blotter rekey") -> None:
        """Write the key table; unless ``schema_prefix`` is None, refuse a changed key.

        Raises:
            OperatorError: a shared warehouse with the development key, or the key changed
                (names ``fix``).
        """
        key = self.settings.pseudonym_key.get_secret_value()
        if self.engine.is_shared and self.settings.uses_dev_pseudonym_key:
            raise OperatorError(
                f"the {self.target} target needs BLOTTER_PSEUDONYM_KEY (the development key "
                "is refused)"
            )
        store = self.key_store()
        if schema_prefix is not None:
            pseudonym.check(store, key, schema_prefix, fix)
        store.write_key(key)


@contextmanager
def writing(
    command: str,
    settings: Settings,
    engine: Engine | None = None,
    run_id: str | None = None,
    create_warehouse: bool = False,
) -> Iterator[WriterSession]:
    """Hold the warehouse for one writing command (``engine``: default from the settings).

    Raises:
        OperatorError: bad path, or another command holds the lock (exit 2).
        WarehouseError: the warehouse cannot be opened (corrupt, held by another program).
    """
    engine = engine or engine_of(settings)
    checked = warehouse_file.check(engine.local_path, create_warehouse)
    held = lock.acquire(engine.local_path, run_id or new_lock_id(command), command)
    try:
        session = WriterSession(command, settings, engine, held, checked)
        if checked.note:
            session.notes.append(checked.note)
        for abandoned in ledger.reconcile(engine.ledger()):
            log.warning(
                f"run {abandoned} ended without finishing (killed?); marked abandoned",
                extra={"run_id": abandoned},
            )
        yield session
    finally:
        held.release()


@contextmanager
def ingest_guard(settings: Settings, engine: Engine) -> Iterator[WriterSession]:
    """:func:`writing` for ``blotter ingest``.

    Exits 2 on a refusal (bad path, another run holds the lock) and 1 when the warehouse cannot
    be opened; the key table is written so that a plain ``dbt build`` works after an ingest.
    """
    from orchestration.app import fail
    from orchestration.errors import describe

    with ExitStack() as stack:
        try:
            held = stack.enter_context(writing("ingest", settings, engine))
            held.prepare_key(None)
        except OperatorError as exc:
            fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. a corrupt warehouse file
            line = describe(exc)
            opened = isinstance(exc, engines.WarehouseError)
            fail(line if opened else f"cannot open the warehouse: {line}", code=1)
        yield held
