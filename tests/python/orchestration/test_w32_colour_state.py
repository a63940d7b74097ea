"""Issue 16 P2 (w32): which build colour may be continued, and which is re-seeded by copy.

Real DuckDB files, one hand-made "build" per day in ``marts``: ``fct`` grows by one row a day
from what its colour holds (an incremental model that catches up), ``snap`` is continued but
always copied (the snapshot), ``dim`` is rebuilt. A marker planted in the build colour shows
which path prepare took: it survives a continued table and vanishes from a copied one. The marker
is a table comment, not a row: since w33 a row written into a kept colour by hand makes it
re-seeded by copy (``test_w33_fingerprint.py``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from test_publish import build_names

from engines.duckdb.colour_state import BUILDING, PUBLISHED
from engines.duckdb.publish import drop_audit, prepare_audit, publish

CONTINUED = {("marts", "fct"), ("marts", "snap"), ("ml", "registry")}
CATCH_UP = {("marts", "fct")}
MARKER = "w32 marker"


def prepare(path: Path, basis: str | None = "code-1", schemas=("marts", "ml")) -> int:
    return prepare_audit(path, schemas, tables=CONTINUED, catch_up=CATCH_UP, basis=basis)


def build(path: Path, day: int) -> None:
    """What dbt and ml/ write into the build colour on ``day``."""
    b = build_names(path)
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "ml"):
            con.execute(f"create schema if not exists {b[schema]}")
        con.execute(f"create table if not exists {b['marts']}.fct (day integer)")
        con.execute(
            f"insert into {b['marts']}.fct select range from range(1, ?) "
            f"where range > (select coalesce(max(day), 0) from {b['marts']}.fct)",
            [day + 1],
        )
        con.execute(f"create table if not exists {b['marts']}.snap (day integer)")
        con.execute(f"insert into {b['marts']}.snap values (?)", [day])
        con.execute(f"create or replace table {b['marts']}.dim as select ? as day", [day])
        con.execute(f"create table if not exists {b['ml']}.registry (day integer)")
        con.execute(f"insert into {b['ml']}.registry values (?)", [day])


def daily(path: Path, day: int, basis: str | None = "code-1") -> int:
    copied = prepare(path, basis)
    build(path, day)
    publish(path, schemas=("marts", "ml"))
    return copied


def plant(path: Path) -> str:
    """A marker (a comment, no row changed) on the next build colour's ``fct``; returns that
    schema."""
    target = build_names(path)["marts"]
    with duckdb.connect(str(path)) as con:
        if con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = 'fct'",
            [target],
        ).fetchone()[0]:
            con.execute(f"comment on table {target}.fct is '{MARKER}'")
        else:
            con.execute(f"create schema if not exists {target}")
            con.execute(f"create table {target}.fct (day integer)")
            con.execute(f"comment on table {target}.fct is '{MARKER}'")
    return target


def marked(path: Path, schema: str) -> bool:
    """Whether ``schema.fct`` carries the marker :func:`plant` left."""
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            "select comment from duckdb_tables() where schema_name = ? and table_name = 'fct'",
            [schema],
        ).fetchone()
    return bool(row) and row[0] == MARKER


def rows(path: Path, relation: str) -> list[int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [r[0] for r in con.execute(f"select day from {relation} order by day").fetchall()]


def schemas(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}


def states(path: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(
            "select schema_name, colour_prefix, state, basis from ops.colour_contents"
        ).fetchall()
    return {(s, c): (state, basis) for s, c, state, basis in found}


def test_a_published_colour_of_the_same_basis_is_continued_not_copied(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    assert daily(path, 1) == 0  # nothing published yet
    assert daily(path, 2) == 3  # green has no record: every continued table copied from blue
    assert daily(path, 3) == 2  # blue holds day 1, published: fct continued, caught up
    assert rows(path, "marts.fct") == [1, 2, 3]
    target = plant(path)  # green: published on day 2, kept by day 3's publish
    assert states(path)[("marts", "green_")] == (PUBLISHED, states(path)[("marts", "blue_")][1])
    assert prepare(path) == 2  # snap and registry copied; fct continued
    assert rows(path, f"{target}.fct") == [1, 2] and marked(path, target)  # continued as it was
    assert rows(path, f"{target}.snap") == [1, 2, 3]  # a copy of the live one
    with duckdb.connect(str(path), read_only=True) as con:
        left = con.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [target]
        ).fetchall()
    assert sorted(left) == [("fct",), ("snap",)]  # dim is rebuilt: not kept
    assert states(path)[("marts", "green_")][0] == BUILDING
    build(path, 4)
    publish(path, schemas=("marts", "ml"))
    assert rows(path, "marts.fct") == [1, 2, 3, 4]  # caught up on days 3 and 4
    assert marked(path, target)


def test_a_dirty_colour_is_reseeded_by_copy(tmp_path: Path) -> None:
    """A failed (or killed) build is recorded ``building`` before it writes: never continued."""
    path = tmp_path / "w.duckdb"
    for day in (1, 2, 3, 4):
        daily(path, day)
    prepare(path)
    build(path, 5)  # ... and the run fails before its publish
    target = plant(path)
    assert states(path)[("marts", target.removesuffix("marts"))][0] == BUILDING
    assert prepare(path) == 3  # fct copied too
    assert rows(path, f"{target}.fct") == [1, 2, 3, 4] and not marked(path, target)  # the copy


def test_another_basis_or_unknown_provenance_is_reseeded(tmp_path: Path) -> None:
    for basis in ("code-2", None):  # changed code, vars or key; a full refresh (rekey)
        path = tmp_path / f"{basis}.duckdb"
        for day in (1, 2, 3):
            daily(path, day)
        target = plant(path)
        assert prepare(path, basis) == 3
        assert not marked(path, target)
    # A build of another basis (code changed): copied, and its publish drops the colour of the
    # old basis (it could not be continued).
    path = tmp_path / "w.duckdb"
    for day in (1, 2, 3):
        daily(path, day)
    assert daily(path, 4, basis="code-2") == 3
    assert ("marts", "blue_") not in states(path) and schemas(path) >= {"green_marts"}
    assert "blue_marts" not in schemas(path)
    daily(path, 5, basis="code-2")  # blue: no record, copied; green (code-2) kept
    # A kept colour whose record names another basis than the live one (a hand edit): copied.
    with duckdb.connect(str(path)) as con:
        con.execute(
            "update ops.colour_contents set basis = 'edited' where colour_prefix = 'green_'"
        )
    target = plant(path)
    assert target == "green_marts"
    assert prepare(path, "code-2") == 3
    assert not marked(path, target)
    # No record (a warehouse published before w32, a colour made by hand): copied.
    drop_audit(path, ("marts", "ml"))
    with duckdb.connect(str(path)) as con:
        con.execute("delete from ops.colour_contents")
    plant(path)
    assert prepare(path, "code-2") == 3
    assert not marked(path, target)


def test_a_forecast_only_command_keeps_the_live_basis_and_dirties_on_failure(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    for day in (1, 2, 3):
        daily(path, day)
    live = states(path)[("marts", "blue_")]
    # `blotter forecast`: every marts and ml table copied from live, then published.
    assert prepare_audit(path, ("marts", "ml")) == 4
    assert states(path)[("marts", "green_")] == (BUILDING, live[1])
    publish(path, schemas=("marts", "ml"))
    assert states(path)[("marts", "green_")] == (PUBLISHED, live[1])
    # The next daily build continues blue (published on day 3; live green is of its basis).
    target = plant(path)
    assert target == "blue_marts" and prepare(path) == 2
    assert marked(path, target)
    # A forecast that stops before its publish leaves its colour dirty: the next build copies.
    drop_audit(path, ("marts", "ml"))
    daily(path, 4)
    prepare_audit(path, ("marts", "ml"))  # ... and the forecast fails
    target = plant(path)
    assert prepare(path) == 3
    assert not marked(path, target)


def test_the_publish_keeps_a_continuable_colour_and_drops_a_dirty_one(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    for day in (1, 2, 3):
        daily(path, day)
    prepare_audit(path, ("ml",))  # a forecasting command on ml that failed: green_ml dirty
    prepare(path, schemas=("marts",))
    publish(path, schemas=("marts",))  # marts flips to green; blue_marts stays, published
    left = schemas(path)
    assert {"blue_marts", "green_marts", "blue_ml"} <= left
    assert "green_ml" not in left
    assert ("ml", "green_") not in states(path)
    assert states(path)[("marts", "blue_")][0] == PUBLISHED
