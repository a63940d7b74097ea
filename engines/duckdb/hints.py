"""What to tell the operator about DuckDB's own failure messages (a held file, a corrupt file).

Wording only: whether a failure is retried is decided by type (``engines.errors.as_transient``).
The errors reach orchestration through dlt's and dbt's layers as text, so the advice is chosen
from the root cause's message.

Environment variables read here: none.
"""

from __future__ import annotations

import re

_LOCK_HOLDER = re.compile(r"conflicting lock is held in (?P<proc>.+?) \(pid (?P<pid>\d+)\)", re.I)
_CORRUPT = (
    "not a valid duckdb database file",
    "database file is corrupt",
    "checksum",
    "corrupt",
    "serialization error",
)


def warehouse_hint(text: str) -> str | None:
    """What to do about a root cause the operator can act on, or None."""
    lowered = text.lower()
    if match := _LOCK_HOLDER.search(text):
        return (
            f"the warehouse is open in another process ({match['proc']}, pid {match['pid']}): "
            "close it (a DuckDB shell, a notebook, a stuck blotter) and run again"
        )
    if "could not set lock" in lowered:
        return "the warehouse is open in another process: close it and run again"
    if any(word in lowered for word in _CORRUPT):
        return (
            "the warehouse file is corrupt or not a DuckDB database: restore it from a backup, "
            "or point BLOTTER_DUCKDB_PATH at a new file (a fresh warehouse backfills)"
        )
    return None
