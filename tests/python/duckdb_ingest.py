"""``ingest`` into a DuckDB file, for tests: ingestion itself takes any dlt destination.

Production code gets the destination and dlt's working directory from the engine; tests that
only need a landed DuckDB file call :func:`ingest_duckdb` with the file's path instead.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from engines.base import landing_state_dir
from engines.duckdb import DuckDBEngine
from ingestion.pipeline import IngestResult, ingest


def ingest_duckdb(
    source_url: str | None, path: Path, start_date: date, **options: Any
) -> IngestResult:
    """``ingest(source_url, ..., start_date, **options)`` landing in the DuckDB file ``path``."""
    with DuckDBEngine(path).landing() as destination:
        return ingest(
            source_url, landing_state_dir(path), start_date, destination=destination, **options
        )
