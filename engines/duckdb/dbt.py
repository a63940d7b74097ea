"""What dbt needs on DuckDB: the profile's env, and the file handles dbt-duckdb leaves open.

``profiles.yml`` reads ``BLOTTER_TARGET`` and ``BLOTTER_DUCKDB_PATH``. dbt-duckdb reports no row
counts, so :func:`count_rows` counts the built relations.

dbt's saved parse is thrown away when the profile changes, and the profile holds the file's path.
So dbt parses a DuckDB project as if the warehouse were :func:`parse_path` (one fixed file per
parse directory, never opened), whose catalog is :data:`PARSE_CATALOG`; the caller re-points the
parsed relations at the real file's catalog (:func:`catalog`, DuckDB names it after the file).

Environment variables read here: none (they are *set* for dbt calls by the caller).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path

import duckdb


def dbt_env(target: str, duckdb_path: Path) -> dict[str, str | None]:
    """The values ``profiles.yml``'s dev and ci outputs read."""
    return {"BLOTTER_TARGET": target, "BLOTTER_DUCKDB_PATH": str(duckdb_path)}


# The catalog of the file dbt parses against: a name no warehouse file is expected to have.
PARSE_CATALOG = "blotter_saved_parse"


def parse_path(parse_dir: Path) -> Path:
    """The DuckDB file dbt parses the project against (the same for every warehouse)."""
    return parse_dir / f"{PARSE_CATALOG}.duckdb"


def catalog(duckdb_path: Path) -> str:
    """The catalog DuckDB (and dbt-duckdb's profile) names after the file ``duckdb_path``."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    return DuckDBCredentials.path_derived_database_name(str(duckdb_path))


def release() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation.

    Otherwise the ML store (which opens the file read-only) and publish fail with "Can't open a
    connection to same database file with a different configuration".
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()  # cursors dbt still references keep the database instance alive


def count_rows(duckdb_path: Path, relations: Sequence[str]) -> dict[str, int]:
    """``{relation: rows}`` for dbt relation names (quoted identifiers from dbt's manifest)."""
    if not relations or not duckdb_path.is_file():
        return {}
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(duckdb_path)) as con:
            for relation in relations:
                row = con.execute(f"select count(*) from {relation}").fetchone()
                counts[relation] = int(row[0]) if row else 0
    except duckdb.Error:
        return counts  # a summary nicety: never fail a build over it
    return counts
