"""Write-audit-publish on DuckDB: audit schemas are copied over the published ones atomically.

The DuckDB engine's ``prepare_audit`` / ``drop_audit`` / ``publish`` (``engines.base.Engine``).

dbt and ``ml/`` build into ``audit_staging``, ``audit_intermediate``, ``audit_marts``,
``audit_ml`` (dbt var ``schema_prefix='audit_'``). Only when every error-severity test passed does
:func:`publish` replace the published schemas, in ONE DuckDB transaction: readers see either the
previous run or this run, never a mix. Raw landing (``raw``) is not touched: it is the record.

Before the daily build, :func:`prepare_audit` seeds the audit schemas with copies of the tables
the build continues from only (incremental models, snapshots, the ML store: orchestration reads
them from dbt's manifest); the build rewrites every other table. DuckDB 1.5 can neither move a
table to another schema (``ALTER TABLE … SET SCHEMA``) nor rename a schema, so :func:`publish`
still copies each audit table into its published schema inside the one transaction.

Environment variables read here: none (the warehouse path is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import duckdb

from engines.base import AUDIT_PREFIX, PUBLISHED_SCHEMAS, PublishBlocked, PublishResult
from engines.duckdb.connect import connect

__all__ = ["PublishBlocked", "PublishResult", "drop_audit", "prepare_audit", "publish"]


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


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


def _view_sql(con: duckdb.DuckDBPyConnection, schema: str, view: str) -> str:
    row = con.execute(
        "select sql from duckdb_views() where database_name = current_database() "
        "and schema_name = ? and view_name = ?",
        [schema, view],
    ).fetchone()
    assert row is not None
    return row[0]


def _schema_pattern(schemas: Sequence[str], prefix: str) -> re.Pattern[str]:
    # `audit_marts.` or `"audit_marts".`, not preceded by an identifier character.
    names = "|".join(re.escape(s) for s in schemas)
    return re.compile(rf'(?<![\w"])"?{re.escape(prefix)}({names})"?(?=\.)')


def rewrite_view_sql(sql: str, schemas: Sequence[str], prefix: str = AUDIT_PREFIX) -> str:
    """Point a view definition at the published schemas instead of the audit ones.

    Example: ``CREATE VIEW audit_marts.v AS SELECT * FROM db.audit_staging.t`` becomes
    ``CREATE VIEW marts.v AS SELECT * FROM db.staging.t``.
    """
    return _schema_pattern(schemas, prefix).sub(lambda m: _q(m.group(1)), sql)


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


def prepare_audit(
    duckdb_path: Path,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefix: str = AUDIT_PREFIX,
    tables: Collection[tuple[str, str]] | None = None,
) -> int:
    """Reset the audit schemas, seeded with copies of the published tables a build continues from.

    Incremental models, snapshots and the ML registry then continue from the last *published*
    state, not from whatever a failed run left in the audit schemas. Views are not copied: dbt
    recreates every view it owns.

    Args:
        duckdb_path: the warehouse file.
        schemas: published schemas whose audit schemas are reset (code constants).
        prefix: audit prefix.
        tables: the ``(schema, table)`` pairs to copy (those a full build continues from, read
            from dbt's manifest); absent ones are skipped. None copies every published table of
            ``schemas`` (commands that rebuild only part of a schema).

    Returns:
        The number of tables copied.
    """
    wanted = None if tables is None else {(s, t) for s, t in tables}
    copied = 0
    with connect(duckdb_path) as con:
        con.execute("begin transaction")
        for schema in schemas:
            audit = prefix + schema
            con.execute(f"drop schema if exists {_q(audit)} cascade")
            published, _ = _objects(con, schema)
            seeded = [t for t in published if wanted is None or (schema, t) in wanted]
            if seeded:
                con.execute(f"create schema {_q(audit)}")
            for table in seeded:
                con.execute(
                    f"create table {_q(audit)}.{_q(table)} as "
                    f"select * from {_q(schema)}.{_q(table)}"
                )
                copied += 1
        con.execute("commit")
    return copied


def drop_audit(
    duckdb_path: Path, schemas: Sequence[str] = PUBLISHED_SCHEMAS, prefix: str = AUDIT_PREFIX
) -> None:
    """Drop the audit schemas of ``schemas`` (a command that stopped before building)."""
    with connect(duckdb_path) as con:
        for schema in schemas:
            con.execute(f"drop schema if exists {_q(prefix + schema)} cascade")


def publish(
    duckdb_path: Path,
    failing_tests: Sequence[str] = (),
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefix: str = AUDIT_PREFIX,
    on_schema: Callable[[str], None] | None = None,
    in_transaction: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> PublishResult:
    """Replace each published schema with its audit copy, all in one transaction.

    The audit schemas are dropped in the same transaction: after a publish a reader sees the
    published schemas only, never every table twice. (After a failed run they stay, so the
    failure can be inspected; the next run resets them from the published tables.)

    Args:
        duckdb_path: the warehouse file.
        failing_tests: names of failed error-severity tests; any → nothing is published.
        schemas: published schema names (code constants, never data).
        prefix: audit prefix.
        on_schema: called after each schema is staged inside the transaction (progress; an
            exception raised there rolls everything back).
        in_transaction: called with the connection just before the commit, to change other
            state exactly when the published schemas change (the key fingerprint).

    Raises:
        PublishBlocked: when ``failing_tests`` is not empty.
        RuntimeError: when no audit schema exists (nothing was built).
    """
    if failing_tests:
        raise PublishBlocked(failing_tests)
    result = PublishResult()
    with connect(duckdb_path) as con:
        present = {
            r[0]
            for r in con.execute(
                "select schema_name from duckdb_schemas() where database_name = current_database()"
            ).fetchall()
        }
        todo = [s for s in schemas if prefix + s in present]
        if not todo:
            raise RuntimeError(f"no {prefix}* schema to publish: did the build run?")
        con.execute("begin transaction")
        try:
            views: dict[str, str] = {}
            for schema in todo:
                tables, audit_views = _objects(con, prefix + schema)
                con.execute(f"drop schema if exists {_q(schema)} cascade")
                con.execute(f"create schema {_q(schema)}")
                for table in tables:
                    con.execute(
                        f"create table {_q(schema)}.{_q(table)} as "
                        f"select * from {_q(prefix + schema)}.{_q(table)}"
                    )
                result.tables += len(tables)
                for view in audit_views:
                    views[f"{schema}.{view}"] = rewrite_view_sql(
                        _view_sql(con, prefix + schema, view), todo, prefix
                    )
                result.schemas.append(schema)
                if on_schema is not None:
                    on_schema(schema)
            for key in _order_views(views):
                con.execute(views[key])
            result.views = len(views)
            for schema in PUBLISHED_SCHEMAS:
                if prefix + schema in present:
                    con.execute(f"drop schema {_q(prefix + schema)} cascade")
            if in_transaction is not None:
                in_transaction(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return result
