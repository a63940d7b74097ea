"""Write-audit-publish on DuckDB, blue/green: a publish re-points views, it copies no rows.

The DuckDB engine's ``prepare_audit`` / ``drop_audit`` / ``publish`` (``engines.base.Engine``).
Each published schema holds views onto its live colour schema (``engines.duckdb.colours``).

dbt and ``ml/`` build into the colour that is NOT live, per schema (``green_marts`` while
``blue_marts`` is published). Before the build, :func:`prepare_audit` (``engines.duckdb.seed``)
leaves in those schemas only the tables the build continues from (incremental models, snapshots,
the ML store: orchestration reads them from dbt's manifest): continued as they are where the
colour holds a published state the build may catch up from, else copied from the live colour.
The build rewrites every other table. Only when every error-severity test passed does
:func:`publish`, in ONE transaction, point each published schema's views at the new colour and
record it live: readers see the previous run or this one, never a mix, and the cost is one
``create view`` per object whatever the warehouse's size. The previous live colour is KEPT
(recorded published in ``ops.colour_contents`` with a fingerprint of each table,
``engines.duckdb.colour_state``): the next build continues from it. A failed build is not
published and stays in the non-live colour schemas, recorded dirty, until the next command
re-seeds them; a publish drops every non-live colour the next build could not continue from
(dirty, of another basis, unrecorded).

Environment variables read here: none (the warehouse path is passed in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import duckdb

from engines.base import PUBLISHED_SCHEMAS, PublishBlocked, PublishResult
from engines.duckdb import colour_state, colours
from engines.duckdb.colours import q
from engines.duckdb.connect import connect
from engines.duckdb.seed import objects, plan, prepare_audit, rewrite_view_sql

__all__ = [
    "PublishBlocked",
    "PublishResult",
    "drop_audit",
    "prepare_audit",
    "publish",
    "rewrite_view_sql",
]


def drop_audit(
    duckdb_path: Path,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefixes: Mapping[str, str] | None = None,
) -> None:
    """Drop the build colour of ``schemas`` (a command that stopped before building)."""
    with connect(duckdb_path) as con:
        con.execute("begin transaction")
        _, build = plan(con, schemas, prefixes)
        for schema in schemas:
            con.execute(f"drop schema if exists {q(build[schema] + schema)} cascade")
            colour_state.forget(con, schema, build[schema])
        con.execute("commit")


def _literal(text: str) -> str:
    # Comments are dbt's descriptions (project code, never source data); DuckDB's COMMENT ON
    # takes no bound parameter.
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con: duckdb.DuckDBPyConnection, source: str, schema: str) -> None:
    """dbt's persisted descriptions of ``source``'s objects, onto the published views."""
    rows = con.execute(
        "select table_name, comment from duckdb_tables() where database_name = current_database()"
        " and schema_name = ? and comment is not null union all "
        "select view_name, comment from duckdb_views() where database_name = current_database()"
        " and schema_name = ? and comment is not null",
        [source, source],
    ).fetchall()
    for name, comment in rows:
        con.execute(f"comment on view {q(schema)}.{q(name)} is {_literal(comment)}")
    columns = con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and comment is not null",
        [source],
    ).fetchall()
    for name, column, comment in columns:
        con.execute(f"comment on column {q(schema)}.{q(name)}.{q(column)} is {_literal(comment)}")


def _basis(con: duckdb.DuckDBPyConnection, schema: str, live: Mapping[str, str]) -> str | None:
    """The basis of ``schema``'s live colour (None: unknown)."""
    state = colour_state.read(con, schema, live.get(schema))
    return state[1] if state else None


def publish(
    duckdb_path: Path,
    failing_tests: Sequence[str] = (),
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefixes: Mapping[str, str] | None = None,
    on_schema: Callable[[str], None] | None = None,
    in_transaction: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> PublishResult:
    """Point each published schema at its build colour, all in one transaction.

    Each published schema is re-created as one view per table and view of the build colour
    (with dbt's descriptions), the colour is recorded live and published, and every colour
    that is not live is dropped unless the next build may continue from it (a published state
    of the live colour's basis, ``colour_state.continuable``; not after ``blotter rekey``, so
    no copy made with the old key stays): a reader sees each object once in the published
    schemas, its physical copy is the live colour. No row is copied or read.

    Args:
        duckdb_path: the warehouse file.
        failing_tests: names of failed error-severity tests; any → nothing is published.
        schemas: published schema names (code constants, never data).
        prefixes: the build colour of each schema (None: the colour not live).
        on_schema: called after each schema is staged inside the transaction (progress; an
            exception raised there rolls everything back).
        in_transaction: called with the connection just before the commit, to change other
            state exactly when the published schemas change (the key fingerprint).

    Raises:
        PublishBlocked: when ``failing_tests`` is not empty.
        RuntimeError: when no build colour schema exists (nothing was built), or a build colour
            is live (a stale plan).
    """
    if failing_tests:
        raise PublishBlocked(failing_tests)
    result = PublishResult()
    with connect(duckdb_path) as con:
        # The fingerprints taken below read the storage layout: data still in the WAL would
        # move to other blocks at the next checkpoint and no longer match.
        con.execute("checkpoint")
        con.execute("begin transaction")
        try:
            live, build = plan(con, schemas, prefixes)
            present = {
                r[0]
                for r in con.execute(
                    "select schema_name from duckdb_schemas() "
                    "where database_name = current_database()"
                ).fetchall()
            }
            todo = [s for s in schemas if build[s] + s in present]
            if not todo:
                names = ", ".join(build[s] + s for s in schemas)
                raise RuntimeError(f"none of {names} exists to publish: did the build run?")
            for schema in todo:
                source = build[schema] + schema
                tables, views = objects(con, source)
                con.execute(f"drop schema if exists {q(schema)} cascade")
                con.execute(f"create schema {q(schema)}")
                for name in (*tables, *views):
                    con.execute(
                        f"create view {q(schema)}.{q(name)} as select * from {q(source)}.{q(name)}"
                    )
                _copy_comments(con, source, schema)
                colours.record(con, schema, build[schema])
                colour_state.mark_published(con, schema, build[schema])
                colour_state.record_fingerprints(con, schema, build[schema], tables)
                live[schema] = build[schema]
                result.tables += len(tables)
                result.views += len(views)
                result.schemas.append(schema)
                if on_schema is not None:
                    on_schema(schema)
            for schema in PUBLISHED_SCHEMAS:  # the live copy, and one the next build continues
                for colour in colours.COLOURS:
                    if live.get(schema) == colour:
                        continue
                    if not colour_state.continuable(
                        con, schema, colour, live.get(schema), _basis(con, schema, live)
                    ):
                        con.execute(f"drop schema if exists {q(colour + schema)} cascade")
                        colour_state.forget(con, schema, colour)
            if in_transaction is not None:
                in_transaction(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return result
