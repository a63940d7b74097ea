"""What each colour schema holds, so that a build may continue from the colour it writes.

A publish keeps the previous live colour (``engines.duckdb.publish``): it holds the state
published one command before. dbt's incremental models compute their new work relative to
their own rows (``{{ this }}``), so a build into that colour catches up on two runs of new data
instead of being seeded by copying the live tables. That is exact only when the colour holds a
published state untouched since, built by the same code and pseudonym key as today's build:
``ops.colour_contents`` records, per published schema and colour,

- ``state``: ``building`` from the moment a command prepares the colour (in the same
  transaction as its first write) until a publish makes it ``published``. A failed, killed or
  never-published build, a forecast-only command that stopped: ``building`` (dirty);
- ``basis``: a digest of what the continued tables' rows depend on besides the data (dbt code,
  vars, key fingerprint; ``orchestration.steps.build_basis``), or NULL when unknown (a full
  refresh, a copy of a colour of unknown basis).

A colour with no row (built before this record, or by hand) is of unknown provenance. Anything
but ``published`` with the caller's basis, in the build colour AND in the live colour it would
otherwise be copied from, is re-seeded by copy (:func:`continuable`).

Environment variables read here: none.
"""

from __future__ import annotations

import duckdb

from engines.duckdb.colours import RECORD_SCHEMA
from engines.duckdb.connect import table_exists

STATE_TABLE = "colour_contents"
BUILDING, PUBLISHED = "building", "published"


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RECORD_SCHEMA}")
    con.execute(
        f"create table if not exists {RECORD_SCHEMA}.{STATE_TABLE} ("
        "schema_name varchar not null, colour_prefix varchar not null, "
        "state varchar not null, basis varchar, "
        "changed_at timestamp with time zone not null, "
        "primary key (schema_name, colour_prefix))"
    )


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(con, RECORD_SCHEMA, STATE_TABLE)


def read(
    con: duckdb.DuckDBPyConnection, schema: str, colour: str | None
) -> tuple[str, str | None] | None:
    """``(state, basis)`` of ``colour + schema``, or None (unknown provenance)."""
    if colour is None or not _exists(con):
        return None
    row = con.execute(
        f"select state, basis from {RECORD_SCHEMA}.{STATE_TABLE} "
        "where schema_name = ? and colour_prefix = ?",
        [schema, colour],
    ).fetchone()
    return (row[0], row[1]) if row else None


def continuable(
    con: duckdb.DuckDBPyConnection, schema: str, build: str, live: str | None, basis: str | None
) -> bool:
    """True when ``build + schema`` may be continued by a build of ``basis``.

    Both the build colour (what the build starts from) and the live colour (what the seed-copy
    path would start from) must hold a published state of the same basis: then continuing from
    the older one and copying the newer one end alike for nodes computed relative to their own
    rows. A NULL basis never matches (unknown code or key).
    """
    if basis is None:
        return False
    expected = (PUBLISHED, basis)
    return read(con, schema, build) == expected and read(con, schema, live) == expected


def mark_building(
    con: duckdb.DuckDBPyConnection, schema: str, colour: str, basis: str | None
) -> None:
    """Record ``colour + schema`` as being written (dirty until published), inside the caller's
    transaction, before anything is written into it."""
    _ensure(con)
    con.execute(
        f"insert or replace into {RECORD_SCHEMA}.{STATE_TABLE} values (?, ?, ?, ?, now())",
        [schema, colour, BUILDING, basis],
    )


def mark_published(con: duckdb.DuckDBPyConnection, schema: str, colour: str) -> None:
    """Record ``colour + schema`` as published (its basis stays what the preparation said); a
    colour prepared by no command of this code (no row) stays of unknown provenance."""
    if _exists(con):
        con.execute(
            f"update {RECORD_SCHEMA}.{STATE_TABLE} set state = ?, changed_at = now() "
            "where schema_name = ? and colour_prefix = ?",
            [PUBLISHED, schema, colour],
        )


def forget(con: duckdb.DuckDBPyConnection, schema: str, colour: str) -> None:
    """Drop the record of ``colour + schema`` (the schema itself is being dropped)."""
    if _exists(con):
        con.execute(
            f"delete from {RECORD_SCHEMA}.{STATE_TABLE} "
            "where schema_name = ? and colour_prefix = ?",
            [schema, colour],
        )
