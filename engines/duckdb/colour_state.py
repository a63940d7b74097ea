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
  vars, key fingerprint; ``orchestration.continued.build_basis``), or NULL when unknown (a full
  refresh, a copy of a colour of unknown basis).

A colour with no row (built before this record, or by hand) is of unknown provenance. Anything
but ``published`` with the caller's basis, in the build colour AND in the live colour it would
otherwise be copied from, is re-seeded by copy (:func:`continuable`).

The record does not see a hand write into a published colour (``dbt run --vars
'{"schema_prefix": "green_"}'``, an ``update``): ``ops.colour_fingerprints`` keeps, per table
of a colour, a fingerprint taken at its publish (:func:`record_fingerprints`), and a build
continues a table only when it still matches (:func:`changed_since_publish`). A fingerprint is
the row count and DuckDB's storage layout of the table (``pragma_storage_info``: each column
segment's block, offset, row count, min/max statistics, pending updates), read from metadata
without scanning rows. Any committed insert, delete, update or re-creation changes it: new rows
go to new segments, a re-created table to new blocks, an update marks its segment and is
written to a new block at the next checkpoint. What it misses: a write that leaves every
segment in the same block and offset with the same count and statistics (two successive
rewrites whose blocks cycle back to the first ones, with equal min/max): not an operator
mistake of one command.

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from engines.duckdb.colours import RECORD_SCHEMA, q
from engines.duckdb.connect import table_exists

STATE_TABLE = "colour_contents"
FINGERPRINT_TABLE = "colour_fingerprints"
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
    for name in (STATE_TABLE, FINGERPRINT_TABLE):
        if table_exists(con, RECORD_SCHEMA, name):
            con.execute(
                f"delete from {RECORD_SCHEMA}.{name} where schema_name = ? and colour_prefix = ?",
                [schema, colour],
            )


def fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The row count and storage layout of ``schema.table`` (metadata only; see the module).

    Stable only for data already checkpointed: the publish checkpoints before taking it.
    """
    relation = f"{q(schema)}.{q(table)}"
    row = con.execute(
        f"select (select count(*) from {relation}) || ' ' || coalesce(md5(string_agg("
        "concat_ws('|', row_group_id, column_path, segment_id, segment_type, start, count, "
        "compression, stats, has_updates, persistent, block_id, block_offset, "
        "additional_block_ids), ';' order by row_group_id, column_id, column_path, segment_id"
        ")), '') from pragma_storage_info(?)",
        [relation],
    ).fetchone()
    assert row is not None
    return str(row[0])


def record_fingerprints(
    con: duckdb.DuckDBPyConnection, schema: str, colour: str, tables: Sequence[str]
) -> None:
    """Record the fingerprint of each of ``tables`` in ``colour + schema`` (at its publish,
    inside the caller's transaction), replacing what was recorded for that colour (so one row
    per table; no key index: the publish adds as few blocks as it can)."""
    con.execute(
        f"create table if not exists {RECORD_SCHEMA}.{FINGERPRINT_TABLE} ("
        "schema_name varchar not null, colour_prefix varchar not null, "
        "table_name varchar not null, fingerprint varchar not null)"
    )
    con.execute(
        f"delete from {RECORD_SCHEMA}.{FINGERPRINT_TABLE} "
        "where schema_name = ? and colour_prefix = ?",
        [schema, colour],
    )
    for table in tables:
        con.execute(
            f"insert into {RECORD_SCHEMA}.{FINGERPRINT_TABLE} values (?, ?, ?, ?)",
            [schema, colour, table, fingerprint(con, colour + schema, table)],
        )


def changed_since_publish(
    con: duckdb.DuckDBPyConnection, schema: str, colour: str, tables: Sequence[str]
) -> list[str]:
    """Those of ``tables`` in ``colour + schema`` whose fingerprint is not the one recorded at
    its publish (written since, or no fingerprint recorded: published by older code)."""
    recorded: dict[str, str] = {}
    if table_exists(con, RECORD_SCHEMA, FINGERPRINT_TABLE):
        recorded = dict(
            con.execute(
                f"select table_name, fingerprint from {RECORD_SCHEMA}.{FINGERPRINT_TABLE} "
                "where schema_name = ? and colour_prefix = ?",
                [schema, colour],
            ).fetchall()
        )
    return [t for t in tables if recorded.get(t) != fingerprint(con, colour + schema, t)]
