"""Blue/green on DuckDB: which of two physical copies each published schema shows.

Every published schema (``staging`` … ``ml``) holds only views, one per object of its LIVE
colour schema (``blue_marts`` or ``green_marts``): ``marts.fct_incidents`` is
``select * from green_marts.fct_incidents``. ``ops.published_colours`` records the live colour
of each schema. A build writes the other colour; publishing re-points the views and the record
in one transaction, so its cost follows the number of objects, never their rows. Schemas are
flipped one by one (``blotter forecast`` publishes ``marts`` and ``ml`` only), so the colours of
two schemas may differ.

The colour not live holds the previous published state (kept for the next build to continue
from, ``engines.duckdb.colour_state``), a failed build, or nothing.

A warehouse published before blue/green has tables in its published schemas and no record:
its first build writes blue and is seeded from those tables (:func:`seed_source`).

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from engines.base import PUBLISHED_SCHEMAS
from engines.duckdb.connect import table_exists

BLUE, GREEN = "blue_", "green_"
COLOURS = (BLUE, GREEN)
RECORD_SCHEMA, RECORD_TABLE = "ops", "published_colours"


def q(identifier: str) -> str:
    """A quoted identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _schemas(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select schema_name from duckdb_schemas() where database_name = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def live_prefixes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``{published schema: live colour prefix}``; a schema never published blue/green is absent.

    Raises:
        RuntimeError: the record names something other than a colour (a hand edit): which copy
            is live cannot be known, and guessing could drop the published data.
    """
    if not table_exists(con, RECORD_SCHEMA, RECORD_TABLE):
        return {}
    rows = con.execute(
        f"select schema_name, colour_prefix from {RECORD_SCHEMA}.{RECORD_TABLE}"
    ).fetchall()
    live = {schema: prefix for schema, prefix in rows if schema in PUBLISHED_SCHEMAS}
    wrong = {s: p for s, p in live.items() if p not in COLOURS}
    if wrong:
        raise RuntimeError(
            f"{RECORD_SCHEMA}.{RECORD_TABLE} names no colour for {wrong}: set each to "
            f"{BLUE!r} or {GREEN!r} (the schema the published views read)"
        )
    _check_views_agree(con, live)
    return live


def _check_views_agree(con: duckdb.DuckDBPyConnection, live: dict[str, str]) -> None:
    """Refuse a record that the published views contradict (a hand edit, a partial restore).

    A build writes, after dropping it, the colour NOT recorded live: if the views read that
    colour, the build would empty what readers see and seed from the other colour, which may
    hold a failed, never-published build.
    """
    for schema, prefix in live.items():
        other_schema = other(prefix) + schema
        row = con.execute(
            "select count(*) from duckdb_views() where database_name = current_database() "
            "and schema_name = ? and (contains(sql, ?) or contains(sql, ?))",
            [schema, other_schema + ".", q(other_schema) + "."],  # DuckDB may drop the quotes
        ).fetchone()
        if row and row[0]:
            raise RuntimeError(
                f"{RECORD_SCHEMA}.{RECORD_TABLE} says {schema} reads {prefix + schema}, but its "
                f"published views read {other_schema}: nothing was changed; set its "
                f"colour_prefix to {other(prefix)!r}, then rerun"
            )


def other(live: str | None) -> str:
    """The colour a build writes when ``live`` is live (blue before the first publish)."""
    return BLUE if live != BLUE else GREEN


def build_prefixes(
    con: duckdb.DuckDBPyConnection, schemas: Sequence[str] = PUBLISHED_SCHEMAS
) -> dict[str, str]:
    """``{published schema: colour prefix the next build writes}``: the colour not live."""
    live = live_prefixes(con)
    return {schema: other(live.get(schema)) for schema in schemas}


def record(con: duckdb.DuckDBPyConnection, schema: str, prefix: str) -> None:
    """Record ``prefix`` as the live colour of ``schema`` (inside the caller's transaction)."""
    con.execute(f"create schema if not exists {RECORD_SCHEMA}")
    con.execute(
        f"create table if not exists {RECORD_SCHEMA}.{RECORD_TABLE} "
        "(schema_name varchar primary key, colour_prefix varchar not null, "
        "published_at timestamp with time zone not null)"
    )
    con.execute(
        f"insert or replace into {RECORD_SCHEMA}.{RECORD_TABLE} values (?, ?, now())",
        [schema, prefix],
    )


def seed_source(con: duckdb.DuckDBPyConnection, schema: str, live: str | None) -> str | None:
    """Where the published state of ``schema`` physically is: its live colour schema, the
    published schema itself on a warehouse published before blue/green, or None (never built).
    """
    present = _schemas(con)
    if live is not None:
        if live + schema not in present:
            raise RuntimeError(
                f"{live + schema}, the live copy of {schema} ({RECORD_SCHEMA}.{RECORD_TABLE}), "
                "does not exist: nothing was changed; restore the warehouse file from a backup"
            )
        return live + schema
    return schema if schema in present else None


def check_not_live(con: duckdb.DuckDBPyConnection, prefixes: dict[str, str]) -> None:
    """Refuse to write a colour that is live (a stale plan: another command published since).

    Raises:
        RuntimeError: a schema's build colour is its live colour.
    """
    live = live_prefixes(con)
    clash = sorted(s for s, p in prefixes.items() if live.get(s) == p)
    if clash:
        raise RuntimeError(
            f"the build colour of {', '.join(clash)} is the live one (published since this "
            "command started): nothing was changed; rerun the command"
        )
