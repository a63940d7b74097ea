"""The run lock: one writing command at a time per warehouse (its file: ``engines/lockfile.py``).

Every command that writes the warehouse (run, ingest, transform, forecast, model approve and
rollback, rekey) holds an exclusive ``fcntl.flock`` on ``<warehouse>.lock`` for its whole life.
The file records who holds it (run id, pid, host, start time, command) so a refused second
command can name the holder. The operating system drops the lock when the holder dies, even on
``kill -9``: a lock that is not held means no command is running, whatever the ledger says.

The file itself is never deleted (deleting a lock file others may be waiting on would let two
holders in); its content is rewritten by each holder.

Environment variables read here: none.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from engines.lockfile import is_held, lock_path
from orchestration.errors import OperatorError

# A reader probing the lock (``is_held``) takes it for microseconds; retrying this long lets a
# starting command through such a probe while still refusing a real holder at once.
ACQUIRE_SECONDS = 1.0


@dataclass(frozen=True)
class Holder:
    """Who holds the lock (the JSON content of the lock file)."""

    run_id: str
    pid: int
    host: str
    started_at: str
    command: str

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        """The holder recorded in ``path``, or None when it is empty or unreadable."""
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError):
            return None


class LockHeld(OperatorError):
    """Another writing command holds the warehouse; the message names it."""

    def __init__(self, path: Path, holder: Holder | None) -> None:
        self.holder = holder
        who = (
            f"{holder.run_id}, pid {holder.pid} on {holder.host}, started {holder.started_at}"
            if holder
            else "holder unknown"
        )
        super().__init__(
            f"another run ({who}) is in progress on {path}; wait for it to finish "
            "(blotter runs shows it) and run again"
        )


class RunLock:
    """The exclusive lock of one warehouse (use :func:`acquire`)."""

    def __init__(self, warehouse: Path, handle: IO[str], holder: Holder) -> None:
        self.warehouse = warehouse
        self.path = lock_path(warehouse)
        self._handle: IO[str] | None = handle
        self.holder = holder

    def update(self, **changes: str) -> None:
        """Rewrite the recorded holder (e.g. once the run id is known)."""
        self.holder = Holder(**{**asdict(self.holder), **changes})
        self._write()

    def _write(self) -> None:
        assert self._handle is not None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps(asdict(self.holder)))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def release(self) -> None:
        """Let the next command in (idempotent)."""
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(warehouse: Path, run_id: str, command: str) -> RunLock:
    """Take the warehouse's lock or raise at once.

    Raises:
        LockHeld: another command holds it (exit code 2).
    """
    path = lock_path(warehouse)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the command's life
    deadline = time.monotonic() + ACQUIRE_SECONDS
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                raise LockHeld(warehouse, Holder.read(path)) from None
            time.sleep(0.05)
    holder = Holder(
        run_id=run_id,
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        command=command,
    )
    lock = RunLock(warehouse, handle, holder)
    lock._write()
    return lock


__all__ = ["Holder", "RunLock", "acquire", "is_held", "lock_path"]
