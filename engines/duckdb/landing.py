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


def duckdb_destination(duckdb_path: Path) -> Any:
    """dlt's DuckDB destination writing into the warehouse file ``duckdb_path``."""
    return dlt.destinations.duckdb(str(duckdb_path))


@contextmanager
def landing(duckdb_path: Path) -> Iterator[Any]:
    """The destination for ``Engine.landing()`` (nothing to set up or restore)."""
    yield duckdb_destination(duckdb_path)
