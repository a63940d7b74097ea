"""Write-audit-publish on a real DuckDB file with small hand-built build (colour) schemas."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from orch_helpers import schema_digest

from engines.base import PUBLISHED_SCHEMAS, PublishBlocked
from engines.duckdb.colours import build_prefixes, live_prefixes
from engines.duckdb.publish import prepare_audit, publish, rewrite_view_sql


def build_names(path: Path) -> dict[str, str]:
    """``{published schema: schema the next build writes}`` (the colour not live)."""
    with duckdb.connect(str(path)) as con:
        return {s: p + s for s, p in build_prefixes(con).items()}


def _build_audit(path: Path, day: int) -> dict[str, str]:
    """What one dbt + ml build leaves behind: tables and views (views chained across schemas)."""
    b = build_names(path)
    with duckdb.connect(str(path)) as con:
        for schema in ("staging", "intermediate", "marts", "ml"):
            con.execute(f"drop schema if exists {b[schema]} cascade")
            con.execute(f"create schema {b[schema]}")
        con.execute("create schema if not exists raw")
        con.execute(
            "create or replace table raw.incidents as select range as n from range(?)", [day * 10]
        )
        con.execute(f'create view {b["staging"]}.stg_incidents as select n from "raw".incidents')
        # A view over a view in another build schema, qualified with the database name.
        db = con.execute("select current_database()").fetchone()[0]
        con.execute(
            f'create view "{db}"."{b["intermediate"]}"."int_incidents" as '
            f'select n, n % 3 as district from "{db}"."{b["staging"]}"."stg_incidents"'
        )
        con.execute(
            f"create table {b['marts']}.fct_incident_counts as select district, count(*) as "
            f"incidents from {b['intermediate']}.int_incidents group by all"
        )
        con.execute(
            f"create view {b['marts']}.v_counts as select * from {b['marts']}.fct_incident_counts"
        )
        con.execute(f"create table {b['ml']}.forecasts as select ? as day, 1.5 as yhat", [day])
    return b


def test_rewrite_view_sql_moves_every_qualifier() -> None:
    sql = 'CREATE VIEW blue_marts.v AS SELECT * FROM w.blue_staging.t JOIN "blue_ml".f USING (x)'
    renames = {f"blue_{s}": f"green_{s}" for s in ("staging", "marts", "ml")}
    out = rewrite_view_sql(sql, renames)
    assert out == (
        'CREATE VIEW "green_marts".v AS SELECT * FROM w."green_staging".t JOIN "green_ml".f '
        "USING (x)"
    )
    # Not a qualifier of a renamed schema: untouched.
    assert rewrite_view_sql("select 'blue_marts' as x, my_blue_marts.y", renames) == (
        "select 'blue_marts' as x, my_blue_marts.y"
    )


def test_publish_replaces_schemas_and_views_point_at_published(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    result = publish(path)
    assert result.schemas == ["staging", "intermediate", "marts", "ml"]
    assert (result.tables, result.views) == (2, 3)

    _build_audit(path, day=2)
    publish(path)
    with duckdb.connect(str(path)) as con:
        assert con.execute("select sum(incidents) from marts.fct_incident_counts").fetchone() == (
            20,
        )
        assert con.execute("select day from ml.forecasts").fetchall() == [(2,)]
        # Publish dropped the other colour (issue 12 item 13): readers see each table once in
        # the published schemas plus its one physical copy, and the published views read it.
        live = live_prefixes(con)
        assert set(live.values()) == {"green_"}, live
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert not {s for s in schemas if s.startswith("blue_")}, schemas
        assert con.execute("select count(*) from intermediate.int_incidents").fetchone() == (20,)
        assert con.execute("select count(*) from marts.v_counts").fetchone() == (3,)
        sql = con.execute(
            "select string_agg(sql, ' ') from duckdb_views() where schema_name in "
            "('staging', 'intermediate', 'marts', 'green_staging', 'green_intermediate', "
            "'green_marts')"
        ).fetchone()[0]
        assert "blue_" not in sql and "green_" in sql


def test_failing_tests_leave_published_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    before = schema_digest(path, PUBLISHED_SCHEMAS)
    assert len(before) == 5

    _build_audit(path, day=2)
    with pytest.raises(PublishBlocked, match="source_unique_raw_incidents_case_number"):
        publish(path, failing_tests=["source_unique_raw_incidents_case_number"])
    assert schema_digest(path, PUBLISHED_SCHEMAS) == before


def test_publish_is_all_or_nothing_when_it_breaks_midway(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    before = schema_digest(path, PUBLISHED_SCHEMAS)
    _build_audit(path, day=3)

    def crash_after_marts(schema: str) -> None:
        if schema == "marts":  # staging, intermediate and marts are already replaced here
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish(path, on_schema=crash_after_marts)
    assert schema_digest(path, PUBLISHED_SCHEMAS) == before
    # And the same audit publishes cleanly afterwards.
    publish(path)
    assert schema_digest(path, PUBLISHED_SCHEMAS) != before


def test_prepare_audit_restarts_from_published_tables(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    with duckdb.connect(str(path)) as con:  # debris of a failed run, in the colour not live
        con.execute("create schema green_ml; create table green_ml.forecasts as select 99 as day")
    assert prepare_audit(path) == 2
    with duckdb.connect(str(path)) as con:
        assert con.execute("select day from green_ml.forecasts").fetchall() == [(1,)]
        # The views are re-created (pointing at green), not copied with rows.
        assert con.execute("select count(*) from green_marts.v_counts").fetchone() == (3,)
        assert con.execute(
            "select count(*) from duckdb_views() where schema_name like 'green_%' "
            "and sql like '%blue\\_%' escape '\\'"
        ).fetchone() == (0,)


def test_publish_without_audit_schemas_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(RuntimeError, match="did the build run"):
        publish(path)


def test_publishing_marts_and_ml_keeps_every_other_schema(tmp_path: Path) -> None:
    """Forecasting commands publish only marts and ml (issue 12 item 14): nothing else moves."""
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    before = schema_digest(path, ("staging", "intermediate"))
    assert prepare_audit(path, schemas=("marts", "ml")) == 2
    with duckdb.connect(str(path)) as con:
        con.execute("update green_ml.forecasts set day = 7")
        con.execute(
            "create or replace view green_marts.v_counts as "
            "select * from green_marts.fct_incident_counts"
        )
    result = publish(path, schemas=("marts", "ml"))
    assert result.schemas == ["marts", "ml"]
    assert schema_digest(path, ("staging", "intermediate")) == before
    with duckdb.connect(str(path)) as con:
        assert con.execute("select day from ml.forecasts").fetchall() == [(7,)]
        assert con.execute("select count(*) from intermediate.int_incidents").fetchone() == (10,)
        assert con.execute("select count(*) from marts.v_counts").fetchone() == (3,)
        assert live_prefixes(con) == {
            "staging": "blue_",
            "intermediate": "blue_",
            "marts": "green_",
            "ml": "green_",
        }
        stale = con.execute(
            "select count(*) from duckdb_schemas() where schema_name in "
            "('blue_marts', 'blue_ml', 'green_staging', 'green_intermediate')"
        ).fetchone()
        assert stale == (0,)


def test_prepare_audit_copies_only_the_tables_the_build_continues_from(tmp_path: Path) -> None:
    """Issue 16 (P2): the daily run seeds the build colour with the continued tables only.

    Every other table is rebuilt by the build, so copying it was a pass over the history for
    nothing; a continued table that is not published yet (a new model) is simply skipped.
    """
    path = tmp_path / "w.duckdb"
    _build_audit(path, day=1)
    publish(path)
    continued = {("ml", "forecasts"), ("marts", "not_published_yet")}
    assert prepare_audit(path, tables=continued) == 1
    with duckdb.connect(str(path)) as con:
        audit = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name like 'green%'"
        ).fetchall()
        schemas = con.execute(
            "select schema_name from duckdb_schemas() where schema_name like 'green%'"
        ).fetchall()
        assert con.execute("select day from green_ml.forecasts").fetchall() == [(1,)]
    assert audit == [("green_ml", "forecasts")]
    assert schemas == [("green_ml",)]  # the others are left for dbt to create
