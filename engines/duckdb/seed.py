"""The build colour made ready for a build (DuckDB blue/green): what it continues from.

:func:`prepare_audit` (``Engine.prepare_audit``) resets the colour each published schema is
built in. The tables a build continues from are kept when the colour holds a published state
the build may catch up from (``engines.duckdb.colour_state``), else copied from the live colour
in the same transaction. The helpers on objects and view definitions serve the publish too.

Environment variables read here: none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import duckdb

from engines.base import PUBLISHED_SCHEMAS
from engines.duckdb import colour_state, colours, level
from engines.duckdb.colours import q
from engines.duckdb.connect import connect, table_exists

log = logging.getLogger("blotter.engines")


def objects(con: duckdb.DuckDBPyConnection, schema: str) -> tuple[list[str], list[str]]:
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


def plan(
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
    *,
    catch_up: Collection[tuple[str, str]] = (),
    levelled: Mapping[tuple[str, str], level.LevelSpec] | None = None,
    basis: str | None = None,
) -> int:
    """Reset the build colour of ``schemas`` to what the build continues from: incremental
    models, snapshots and the ML registry continue from a *published* state, never from what a
    failed run left in that colour.

    A schema whose build colour holds a published state of ``basis``, as its live colour does
    (``colour_state.continuable``: the previous live colour, kept by :func:`publish`), and
    whose kept tables still match their fingerprints taken at that publish, keeps its
    ``catch_up`` tables as they are (the build catches up on the runs since), brings its
    ``levelled`` tables level with the live colour by moving the rows that differ
    (``engines.duckdb.level``), and copies every other continued table from the live colour.
    Any other build colour is emptied and seeded by copy (one log line when it was
    continuable but a kept table changed since its publish).

    Args:
        duckdb_path: the warehouse file.
        schemas: published schemas whose build colour is reset (code constants).
        prefixes: the build colour of each schema (``colours.build_prefixes``); None: not live.
        tables: the ``(schema, table)`` pairs to copy (those a full build continues from, read
            from dbt's manifest); absent ones are skipped. None copies every table and view of
            ``schemas`` (commands that rebuild only part of a schema).
        catch_up: the pairs of ``tables`` whose new work is computed relative to their own rows
            (``orchestration.dbt_manifest.CATCH_UP``), kept in a continuable build colour.
        levelled: pairs of ``tables`` levelled in a continuable build colour, with their key
            and compared columns (``level.level``); a table that cannot be levelled is copied.
        basis: what the build's rows depend on besides the data (code, vars, key), recorded
            with the colour; None: unknown (a full refresh), never continued. With ``tables``
            None the copies keep the live colour's basis.

    Returns:
        The number of tables copied.
    """
    wanted = None if tables is None else {(s, t) for s, t in tables}
    copied, continued, levelled_keys = 0, 0, 0
    started, cpu = time.perf_counter(), time.process_time()
    with connect(duckdb_path) as con:
        con.execute("begin transaction")
        live, build = plan(con, schemas, prefixes)
        basis = with_source_profile(con, basis)
        sources = {s: colours.seed_source(con, s, live.get(s)) for s in schemas}
        renames = {src: build[s] + s for s, src in sources.items() if src is not None}
        views: dict[str, str] = {}
        for schema in schemas:
            target, source = build[schema] + schema, sources[schema]
            specs = {t: spec for (s, t), spec in (levelled or {}).items() if s == schema}
            kept = _keep_for_catch_up(
                con, schema, build[schema], live.get(schema), {*catch_up, *(levelled or {})}, basis
            )
            recorded = basis if wanted is not None else _live_basis(con, schema, live.get(schema))
            colour_state.mark_building(con, schema, build[schema], recorded)
            found, found_views = objects(con, source) if source else ([], [])
            for table in sorted(kept & set(specs)):
                moved = level.level(con, target, str(source), table, *specs[table])
                if moved is not None:
                    levelled_keys += moved
                    continue
                if table in found:  # same basis, yet not two states of one table: unexpected
                    log.warning(f"{target}.{table} could not be levelled with {source}: copied")
                con.execute(f"drop table {q(target)}.{q(table)}")
                kept.discard(table)
            seeded = [
                t for t in found if (wanted is None or (schema, t) in wanted) and t not in kept
            ]
            continued += len(kept)
            copied_views = found_views if wanted is None else []  # views: no rows
            for view in copied_views:
                views[f"{target}.{view}"] = rewrite_view_sql(
                    _view_sql(con, str(source), view), renames
                )
            if seeded or copied_views or kept:
                con.execute(f"create schema if not exists {q(target)}")
            for table in seeded:
                copy = f"select * from {q(str(source))}.{q(table)}"
                con.execute(f"create table {q(target)}.{q(table)} as {copy}")
                copied += 1
        for key in _order_views(views):
            con.execute(views[key])
        con.execute("commit")
    log.debug(  # commands that refuse print one line: this is for the developer's log
        f"build colour ready in {time.perf_counter() - started:.2f} s "
        f"({time.process_time() - cpu:.2f} CPU s): {copied} table(s) copied, {continued} "
        f"continued ({levelled_keys} key(s) moved to level them)"
    )
    return copied


def _keep_for_catch_up(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    build: str,
    live: str | None,
    catch_up: Collection[tuple[str, str]],
    basis: str | None,
) -> set[str]:
    """Empty ``build + schema`` but for the ``catch_up`` tables it may continue from (returned);
    all of it when it may not be continued, or when one of them changed since its publish."""
    target = build + schema
    wanted = {t for s, t in catch_up if s == schema}
    if not wanted or not colour_state.continuable(con, schema, build, live, basis):
        con.execute(f"drop schema if exists {q(target)} cascade")
        return set()
    tables, views = objects(con, target)
    changed = colour_state.changed_since_publish(con, schema, build, sorted(wanted & set(tables)))
    if changed:
        log.warning(
            f"{target}: {', '.join(changed)} changed since its publish (a write by hand?) or "
            f"was published without a fingerprint: {target} is re-seeded by copy, not continued"
        )
        con.execute(f"drop schema if exists {q(target)} cascade")
        return set()
    for view in views:
        con.execute(f"drop view {q(target)}.{q(view)}")
    for table in tables:
        if table not in wanted:
            con.execute(f"drop table {q(target)}.{q(table)}")
    return wanted & set(tables)


def with_source_profile(con: duckdb.DuckDBPyConnection, basis: str | None) -> str | None:
    """``basis`` with the landed source profile folded in: dbt compiles the city's columns and
    geography levels from ``raw.source_profile``, so a changed profile is changed code. Its
    ``url`` is left out: no SQL reads it, and the demo replay's port changes every run."""
    if basis is None:
        return None
    query = "select profile_json from raw.source_profile"
    profiles = []
    found = table_exists(con, "raw", "source_profile")
    for (text,) in con.execute(query).fetchall() if found else []:
        profile = json.loads(text) if text else {}
        if isinstance(profile, dict):
            profile.pop("url", None)
        profiles.append(json.dumps(profile, sort_keys=True))
    return hashlib.sha256(repr((basis, sorted(profiles))).encode()).hexdigest()


def _live_basis(con: duckdb.DuckDBPyConnection, schema: str, live: str | None) -> str | None:
    """The basis of the live colour's rows, when it holds a published state (else None)."""
    state = colour_state.read(con, schema, live)
    return state[1] if state and state[0] == colour_state.PUBLISHED else None
