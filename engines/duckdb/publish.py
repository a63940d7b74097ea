"""Write-audit-publish on DuckDB, blue/green: a publish re-points views, it copies no rows.

The DuckDB engine's ``prepare_audit`` / ``drop_audit`` / ``publish`` (``engines.base.Engine``).
Each published schema holds views onto its live colour schema (``engines.duckdb.colours``).

dbt and ``ml/`` build into the colour that is NOT live, per schema (``green_marts`` while
``blue_marts`` is published). Before the build, :func:`prepare_audit` empties those schemas and
seeds them with copies of the live tables the build continues from only (incremental models,
snapshots, the ML store: orchestration reads them from dbt's manifest); the build rewrites every
other table. Only when every error-severity test passed does :func:`publish`, in ONE
transaction, point each published schema's views at the new colour, record it live and drop the
other colour: readers see the previous run or this one, never a mix, and the cost is one
``create view`` per object whatever the warehouse's size. A failed build is not published and
stays in the non-live colour schemas (``ops.published_colours`` names the live one) until the
next command resets them.

Environment variables read here: none (the warehouse path is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

import duckdb

from engines.base import PUBLISHED_SCHEMAS, PublishBlocked, PublishResult
from engines.duckdb import colours
from engines.duckdb.colours import q
from engines.duckdb.connect import connect

__all__ = ["PublishBlocked", "PublishResult", "drop_audit", "prepare_audit", "publish"]


def _objects(con: duckdb.DuckDBPyConnection, schema: str) -> tuple[list[str], list[str]]:
    """Base tables and views of ``schema`` in the warehouse's own catalog."""
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and not temporary order by table_name",
            [schema],
        ).fetchall()
    ]
    views = [
        r[0]
        for r in con.execute(
            "select view_name from duckdb_views() where database_name = current_database() "
            "and schema_name = ? and not internal and not temporary order by view_name",
            [schema],
        ).fetchall()
    ]
    return tables, views


def rewrite_view_sql(sql: str, renames: Mapping[str, str]) -> str:
    """A view definition with schema names replaced (``renames``: old → new schema).

    Example: ``CREATE VIEW blue_marts.v AS SELECT * FROM db.blue_staging.t`` with
    ``{"blue_marts": "green_marts", "blue_staging": "green_staging"}`` reads green.
    """
    if not renames:
        return sql
    # `blue_marts.` or `"blue_marts".`, not preceded by an identifier character.
    names = "|".join(re.escape(s) for s in sorted(renames, key=len, reverse=True))
    pattern = re.compile(rf'(?<![\w"])"?({names})"?(?=\.)')
    return pattern.sub(lambda m: q(renames[m.group(1)]), sql)


def _order_views(views: dict[str, str]) -> list[str]:
    """Dependency order (DuckDB binds a view when it is created): referenced views first."""
    names = list(views)
    refs = {
        key: {
            other
            for other in names
            if other != key
            and re.search(
                r'(?<![\w"])"?'
                + re.escape(other.split(".")[0])
                + r'"?\s*\.\s*"?'
                + re.escape(other.split(".")[1])
                + r'"?(?![\w"])',
                views[key].split(" AS ", 1)[-1],
                re.IGNORECASE,
            )
        }
        for key in names
    }
    ordered: list[str] = []
    pending = list(names)
    while pending:
        ready = [n for n in pending if refs[n] <= set(ordered)] or pending[:1]
        for n in ready:
            ordered.append(n)
            pending.remove(n)
    return ordered


def _view_sql(con: duckdb.DuckDBPyConnection, schema: str, view: str) -> str:
    row = con.execute(
        "select sql from duckdb_views() where database_name = current_database() "
        "and schema_name = ? and view_name = ?",
        [schema, view],
    ).fetchone()
    assert row is not None
    return row[0]


def _plan(
    con: duckdb.DuckDBPyConnection, schemas: Sequence[str], prefixes: Mapping[str, str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """(live colours, build colours of ``schemas``), refusing to build into a live colour."""
    live = colours.live_prefixes(con)
    build = {s: (prefixes or {}).get(s) or colours.other(live.get(s)) for s in schemas}
    colours.check_not_live(con, build)
    return live, build


def prepare_audit(
    duckdb_path: Path,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefixes: Mapping[str, str] | None = None,
    tables: Collection[tuple[str, str]] | None = None,
) -> int:
    """Reset the build colour of ``schemas``, seeded with copies of the live tables it continues
    from: incremental models, snapshots and the ML registry continue from the last *published*
    state, never from what a failed run left in that colour.

    Args:
        duckdb_path: the warehouse file.
        schemas: published schemas whose build colour is reset (code constants).
        prefixes: the build colour of each schema (``colours.build_prefixes``); None: not live.
        tables: the ``(schema, table)`` pairs to copy (those a full build continues from, read
            from dbt's manifest); absent ones are skipped. None copies every table and view of
            ``schemas`` (commands that rebuild only part of a schema).

    Returns:
        The number of tables copied.
    """
    wanted = None if tables is None else {(s, t) for s, t in tables}
    copied = 0
    with connect(duckdb_path) as con:
        con.execute("begin transaction")
        live, build = _plan(con, schemas, prefixes)
        sources = {s: colours.seed_source(con, s, live.get(s)) for s in schemas}
        renames = {src: build[s] + s for s, src in sources.items() if src is not None}
        views: dict[str, str] = {}
        for schema in schemas:
            target, source = build[schema] + schema, sources[schema]
            con.execute(f"drop schema if exists {q(target)} cascade")
            found, found_views = _objects(con, source) if source else ([], [])
            seeded = [t for t in found if wanted is None or (schema, t) in wanted]
            kept = found_views if wanted is None else []  # views are re-created: no rows
            for view in kept:
                views[f"{target}.{view}"] = rewrite_view_sql(
                    _view_sql(con, str(source), view), renames
                )
            if seeded or kept:
                con.execute(f"create schema if not exists {q(target)}")
            for table in seeded:
                copy = f"select * from {q(str(source))}.{q(table)}"
                con.execute(f"create table {q(target)}.{q(table)} as {copy}")
                copied += 1
        for key in _order_views(views):
            con.execute(views[key])
        con.execute("commit")
    return copied


def drop_audit(
    duckdb_path: Path,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefixes: Mapping[str, str] | None = None,
) -> None:
    """Drop the build colour of ``schemas`` (a command that stopped before building)."""
    with connect(duckdb_path) as con:
        con.execute("begin transaction")
        _, build = _plan(con, schemas, prefixes)
        for schema in schemas:
            con.execute(f"drop schema if exists {q(build[schema] + schema)} cascade")
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
    (with dbt's descriptions), the colour is recorded live, and every colour that is not live
    is dropped: after a publish a reader sees each object once in the published schemas plus
    its one physical copy. No row is copied or read.

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
        con.execute("begin transaction")
        try:
            live, build = _plan(con, schemas, prefixes)
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
                tables, views = _objects(con, source)
                con.execute(f"drop schema if exists {q(schema)} cascade")
                con.execute(f"create schema {q(schema)}")
                for name in (*tables, *views):
                    con.execute(
                        f"create view {q(schema)}.{q(name)} as select * from {q(source)}.{q(name)}"
                    )
                _copy_comments(con, source, schema)
                colours.record(con, schema, build[schema])
                live[schema] = build[schema]
                result.tables += len(tables)
                result.views += len(views)
                result.schemas.append(schema)
                if on_schema is not None:
                    on_schema(schema)
            for schema in PUBLISHED_SCHEMAS:  # one physical copy stays: the live one
                for colour in colours.COLOURS:
                    if live.get(schema) != colour:
                        con.execute(f"drop schema if exists {q(colour + schema)} cascade")
            if in_transaction is not None:
                in_transaction(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return result
