"""A kept table brought level with the live colour's copy by moving only the rows that differ.

The kept colour holds the state published one command before the live one
(``engines.duckdb.colour_state``). A table dbt cannot catch up by re-running (a snapshot: its
versions depend on which runs saw a record) or that dbt does not build (the ML store) was copied
whole from the live colour on every build. Between the two published states only the rows the
live colour's last command wrote or closed differ, so :func:`level` moves those.

Per table a *key* groups rows (a snapshot's ``unique_key``, the ML store's run id) and
*compared* columns say what identifies a row (None: every column). The keys with a row in the
multiset difference of the two copies, either way (:func:`find_differing_keys`), are replaced by the
live colour's rows of those keys; every other key has equal rows in both. For a dbt snapshot the
compared columns are ``dbt_scd_id`` (one version of one record) and ``dbt_valid_to`` (the only
column a snapshot updates): a version's other columns are written once, when it is inserted. The
result is checked by row count; anything unexpected returns None and the caller copies the table.

Only identifiers (code constants, dbt's config) reach SQL; no value is formatted into it.

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from engines.duckdb.colours import q

# How one table is levelled: (key column, compared columns; None: every column).
LevelSpec = tuple[str, tuple[str, ...] | None]


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """``(name, type)`` of ``schema.table``'s columns in order (empty: no such table)."""
    return [
        (r[0], r[1])
        for r in con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ? "
            "order by column_index",
            [schema, table],
        ).fetchall()
    ]


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def _compared(live: str, kept: str, wanted: Sequence[str], marked: str) -> str:
    """``live`` full-joined to ``kept`` on every column of ``wanted`` (NULLs equal, as in
    ``EXCEPT ALL``), each side as ``marked`` (a format of ``picked`` and ``rel``)."""
    picked = ", ".join(f"{q(c)} as c{i}" for i, c in enumerate(wanted))
    same = " and ".join(f"l.c{i} is not distinct from k.c{i}" for i in range(len(wanted)))
    return (
        f"{marked.format(picked=picked, rel=live)} as l "
        f"full join {marked.format(picked=picked, rel=kept)} as k on {same}"
    )


def find_differing_keys(
    con: duckdb.DuckDBPyConnection, kept: str, live: str, wanted: Sequence[str]
) -> bool:
    """Fill the temp table ``levelled_keys`` (column ``k``) with the distinct ``wanted[0]`` (the
    key) of the rows in the multiset difference of the relations ``kept`` and ``live`` on
    ``wanted``, either way: what two ``EXCEPT ALL``s give, at a sixth of their CPU (l37; DuckDB
    numbers every row of both copies in a window for them).

    One hash join of the copies' rows counts the pairs it matches (``both``) and the rows it
    leaves unmatched on each side. A value occurring a times in live and b in kept gives a*b
    pairs, so ``both`` + unmatched live rows = live's row count exactly when every matched value
    occurs once in kept (and likewise the other way). Then the values whose multiplicities
    differ are exactly the unmatched ones (a snapshot: its versions are distinct). Otherwise
    (duplicate rows, as the ML store may hold) each copy's rows are counted per value and the
    counts compared.

    Returns:
        True when the single join sufficed.
    """
    con.execute(
        "create or replace temp table levelled_sides as "
        "select case when l.p and k.p then null else coalesce(l.c0, k.c0) end as k, "
        "case when k.p is null then 'live' when l.p is null then 'kept' else 'both' end as side, "
        "count(*) as n from "
        + _compared(live, kept, wanted, "(select {picked}, true as p from {rel})")
        + " group by all"
    )
    sides = dict(con.execute("select side, sum(n) from levelled_sides group by side").fetchall())
    both = sides.get("both", 0)
    once = both + sides.get("live", 0) == _count(con, live)
    once = once and both + sides.get("kept", 0) == _count(con, kept)
    query = "select distinct k from levelled_sides where side <> 'both'"
    if not once:
        query = (
            "select distinct coalesce(l.c0, k.c0) as k from "
            + _compared(
                live, kept, wanted, "(select {picked}, count(*) as n from {rel} group by all)"
            )
            + " where l.n is distinct from k.n"
        )
    con.execute(f"create or replace temp table levelled_keys as {query}")
    con.execute("drop table levelled_sides")
    return once


def level(
    con: duckdb.DuckDBPyConnection,
    kept_schema: str,
    live_schema: str,
    table: str,
    key: str,
    compared: Sequence[str] | None,
) -> int | None:
    """Make ``kept_schema.table`` hold the rows of ``live_schema.table`` (inside the caller's
    transaction), moving only the keys whose rows differ.

    Returns:
        The number of keys moved, or None when the table was not levelled: the copies' columns
        differ (or lack ``key``/``compared``), or the row counts differ afterwards (the copies
        were not two states of one table). The caller then replaces the table by a copy.
    """
    shape = columns(con, kept_schema, table)
    names = {name for name, _ in shape}
    wanted = [key, *(compared if compared is not None else [n for n, _ in shape if n != key])]
    if not shape or shape != columns(con, live_schema, table) or not set(wanted) <= names:
        return None
    kept, live = f"{q(kept_schema)}.{q(table)}", f"{q(live_schema)}.{q(table)}"
    find_differing_keys(con, kept, live, wanted)
    # A NULL key matches nothing with `in`: those rows are moved by their own clause.
    chosen = (
        f"({q(key)} in (select k from levelled_keys where k is not null) or ({q(key)} is null "
        "and exists (select 1 from levelled_keys where k is null)))"
    )
    con.execute(f"delete from {kept} where {chosen}")
    con.execute(f"insert into {kept} select * from {live} where {chosen}")
    moved = _count(con, "levelled_keys")
    con.execute("drop table levelled_keys")
    if _count(con, kept) != _count(con, live):
        return None
    return moved
