"""Whether a writing command may use (or create) the warehouse file BLOTTER_DUCKDB_PATH names.

A mistyped path must not silently start a second warehouse with a full backfill:

- the file exists: use it;
- it does not, but its directory does: create a new warehouse, announced as a WARNING and
  recorded in the run ledger's ``notes`` ("created new warehouse <path>");
- its directory does not exist either: refuse (exit 2), unless the command was given
  ``--create-warehouse`` or the path is the default ``data/blotter.duckdb`` (a fresh clone's
  ``make run`` needs it).

Environment variables read here: none (the settings are passed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestration.errors import OperatorError
from orchestration.logs import get_logger
from orchestration.settings import Settings

DEFAULT_PATH = Settings().duckdb_path
log = get_logger("warehouse")


@dataclass(frozen=True)
class WarehouseFile:
    """The checked warehouse path; ``new`` when this command creates it."""

    path: Path
    new: bool

    @property
    def note(self) -> str | None:
        """The ledger note for a new warehouse, else None."""
        return f"created new warehouse {self.path}" if self.new else None


def check(path: Path, create_warehouse: bool = False) -> WarehouseFile:
    """Decide whether ``path`` may be used; create its directory when allowed.

    Raises:
        OperatorError: the path's directory does not exist and creating it was not asked for,
            or the path is a directory.
    """
    if path.is_dir():
        raise OperatorError(f"BLOTTER_DUCKDB_PATH {path} is a directory; name a .duckdb file")
    if path.exists():
        return WarehouseFile(path, new=False)
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise OperatorError(f"cannot create the warehouse {path}: {parent} is not a directory")
    if not parent.is_dir():
        if not (create_warehouse or path == DEFAULT_PATH):
            raise OperatorError(
                f"BLOTTER_DUCKDB_PATH {path}: directory {parent} does not exist (a typo?); "
                "create it (mkdir -p) if you mean a new warehouse there, or pass "
                "--create-warehouse to blotter run"
            )
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OperatorError(f"cannot create {parent}: {exc.strerror}") from None
    log.warning(
        f"creating a new warehouse at {path} (BLOTTER_DUCKDB_PATH): the first run backfills "
        "from BLOTTER_START_DATE; if you meant an existing warehouse, stop and fix the path",
        extra={"warehouse": str(path)},
    )
    return WarehouseFile(path, new=True)
