"""Raw landing on DuckDB: dlt's DuckDB destination writing into the warehouse file.

``raw`` is a schema of the same file dbt builds in, so dataset naming needs nothing.

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dlt

# DuckDB's buffer pool would otherwise grow with a big backfill's insert (1.5 GiB at 1M rows):
# capped, it spills blocks to the warehouse file instead.
LOAD_MEMORY = "512MB"
# One thread inserts dlt's parquet for about half the CPU of two (a 214k-row file: 2.1-3.0 against
# 3.8-7.6 CPU s) into a smaller file (19-20 against 29 MiB): the second thread only contends.
LOAD_THREADS = 1


def duckdb_destination(duckdb_path: Path) -> Any:
    """dlt's DuckDB destination writing into the warehouse file ``duckdb_path``."""
    return dlt.destinations.duckdb(str(duckdb_path))


@contextmanager
def landing(duckdb_path: Path) -> Iterator[Any]:
    """The destination for ``Engine.landing()``: load memory and threads capped (see above)."""
    dlt.config["destination.duckdb.credentials.global_config"] = {
        "memory_limit": LOAD_MEMORY,
        "threads": LOAD_THREADS,
    }
    yield duckdb_destination(duckdb_path)
