"""The private folders dbt parses in beside a saved parse (``orchestration.dbt_invoke``): each
run parses in its own, removed after; a killed run's is swept once it is a day old."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

# A run killed mid-parse leaves its private folder behind; none is in use a day later.
STALE_PARSE_SECONDS = 86_400


def sweep_private_folders(where: Path, now: float | None = None) -> int:
    """Remove private parse folders in ``where`` older than a day (killed runs'); how many."""
    cutoff = (time.time() if now is None else now) - STALE_PARSE_SECONDS
    removed = 0
    for folder in where.glob("tmp*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                removed += 1
        except OSError:
            continue  # another run swept it first, or it is not ours to remove: leave it
    return removed
