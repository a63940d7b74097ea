"""Shared fixture: one small warehouse landed from the replay API.

Kept small on purpose; area fixtures live in ``tests/python/<area>/conftest.py``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

# A short, recent window keeps every backfill small (a few thousand rows) and fast.
LANDED_AS_OF = date(2025, 6, 10)
LANDED_START = date(2025, 5, 1)


@pytest.fixture(scope="session")
def landed_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file whose ``raw.incidents`` was landed by ``ingest`` from the replay API.

    Window ``LANDED_START`` .. ``LANDED_AS_OF``; shared by the session, so copy the file
    before writing to it.
    """
    from ingestion.pipeline import ingest
    from ingestion.replay.server import running_replay

    path = tmp_path_factory.mktemp("landed") / "blotter.duckdb"
    with running_replay(as_of=LANDED_AS_OF, start=LANDED_START) as url:
        ingest(url, path, LANDED_START, show_progress=False)
    return path
