"""Raw landing on DuckDB: dlt's DuckDB destination writing into the warehouse file.

``raw`` is a schema of the same file dbt builds in, so dataset naming needs nothing.

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# DuckDB's buffer pool would otherwise grow with a big backfill's insert (1.5 GiB at 1M rows):
# capped, it spills blocks to the warehouse file instead.
LOAD_MEMORY = "512MB"
# One thread inserts dlt's parquet for less CPU and wall than two (1M backfill: load step 16-18 s
# against 23-48 s, BENCHMARKS.md i26): on 2 shared cores the second thread only contends.
LOAD_THREADS = 1


def duckdb_destination(duckdb_path: Path) -> Any:
    """dlt's DuckDB destination writing into the warehouse file ``duckdb_path``."""
    import dlt  # here: ~1 CPU s, paid only by commands that land (not by `blotter runs`, …)

    return dlt.destinations.duckdb(str(duckdb_path))


@contextmanager
def landing(duckdb_path: Path) -> Iterator[Any]:
    """The destination for ``Engine.landing()``: load memory and threads capped (see above)."""
    import dlt

    dlt.config["destination.duckdb.credentials.global_config"] = {
        "memory_limit": LOAD_MEMORY,
        "threads": LOAD_THREADS,
    }
    yield duckdb_destination(duckdb_path)
