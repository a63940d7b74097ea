"""The run lock's file next to the warehouse's local file, and a probe of whether it is held.

``orchestration/lock.py`` takes the lock (an exclusive ``fcntl.flock`` for a writing command's
whole life); readers such as the dashboard only probe it, to tell a killed run (a ledger row
still ``running`` while nobody holds the lock) from a live one.

Environment variables read here: none.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lock_path(warehouse: Path) -> Path:
    """``data/blotter.duckdb`` → ``data/blotter.duckdb.lock``."""
    return warehouse.with_name(warehouse.name + ".lock")


def is_held(warehouse: Path) -> bool:
    """True when a command holds the warehouse's lock right now (a momentary shared probe)."""
    path = lock_path(warehouse)
    if not path.exists():
        return False
    with open(path, encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists on this host (signal 0 probes without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True
