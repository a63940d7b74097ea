"""Issue 12 item 12: plain ``dbt build`` is green before any forecast and never publishes.

The session warehouse was built by ``dbt build`` with no vars on an ingest-only warehouse: the
ML sources are created empty, forecasting tests pass vacuously, and only ``dev_*`` schemas are
written. A published build (``schema_prefix=""``, as orchestration runs it) followed by a plain
build leaves every published relation byte for byte as it was.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import PUBLISHED_SCHEMAS, dbt, published_digest, query

from ml.warehouse import TABLES
from orchestration.dbt_runner import PROJECT_DIR, DbtRunResult

ML_SOURCES = PROJECT_DIR / "models" / "marts" / "forecasting" / "_forecasting__sources.yml"


def _schemas(db: Path) -> set[str]:
    return {s for (s,) in query(db, "select schema_name from information_schema.schemata")}


def test_plain_build_on_an_ingest_only_warehouse_is_green_and_private(
    built: tuple[Path, DbtRunResult],
) -> None:
    db, result = built
    assert result.success, result.failing_tests + result.failing_nodes
    assert result.node("fct_forecasts").status == "success"
    assert result.node("assert_forecasts_cover_every_active_geography").status == "pass"
    schemas = _schemas(db)
    assert {"dev_staging", "dev_marts", "dev_ml", "dev_snapshots"} <= schemas
    assert schemas.isdisjoint(PUBLISHED_SCHEMAS)
    assert query(db, "select count(*) from dev_ml.forecasts") == [(0,)]


def test_plain_build_leaves_published_schemas_untouched(
    published: tuple[Path, DbtRunResult],
    plain_rebuild: tuple[Path, DbtRunResult, dict[str, str]],
) -> None:
    _, result = published
    assert result.success, result.failing_tests + result.failing_nodes
    # A published warehouse whose raw changed (every incident a ROBBERY), rebuilt by a plain
    # full refresh (conftest.plain_rebuild).
    db, plain, before = plain_rebuild
    assert {
        "marts.fct_incidents",
        "ml.forecasts",
        "snapshots.snap_incidents",
        "staging.stg_socrata__incidents",
    } <= set(before)
    assert plain.success, plain.failing_tests + plain.failing_nodes
    assert published_digest(db) == before
    # The plain build did see the change, in its own schemas.
    assert query(db, "select distinct incident_type from dev_marts.fct_incidents") == [("ROBBERY",)]


def test_ml_source_columns_match_what_ml_writes() -> None:
    declared = {
        table["name"]: {c["name"]: c.get("data_type") for c in table["columns"]}
        for table in yaml.safe_load(ML_SOURCES.read_text())["sources"][0]["tables"]
    }
    assert declared == TABLES


def test_plain_dbt_test_is_green_before_any_forecast(built_copy: Path) -> None:
    """``dbt test`` alone creates the missing ML sources too (its on-run-start hook)."""
    query(built_copy, "drop schema dev_ml cascade")
    result = dbt(built_copy, "test")
    assert result.success, result.failing_tests
    assert result.node("assert_forecasts_cover_every_active_geography").status == "pass"
    assert query(built_copy, "select count(*) from dev_ml.model_runs") == [(0,)]
