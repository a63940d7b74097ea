"""Issue 16 (P2): what a run reads from dbt's parsed project, on the real project.

One parse with the audit vars gives (a) the tables the build continues from, which are the only
ones copied into the audit schemas, and (b) the published schemas' manifest, which the docs step
and BigQuery's view recreation use instead of parsing the project again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engines.base import AUDIT_PREFIX, PUBLISHED_SCHEMAS
from orchestration.dbt_manifest import CONTINUED, continued_tables, published_manifest
from orchestration.dbt_runner import run_dbt

VARS = {"schema_prefix": AUDIT_PREFIX, "data_cutoff": "2025-06-10", "data_start": "2025-05-01"}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict, Path]:
    """(the Manifest of one audit parse, its manifest.json, the DuckDB file)."""
    base = tmp_path_factory.mktemp("parse")
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("DBT_TARGET_PATH", str(base / "target"))
        mp.setenv("DBT_LOG_PATH", str(base / "logs"))
        db = base / "w.duckdb"
        result = run_dbt(
            "parse",
            vars=VARS,
            target="ci",
            env={"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": "ci"},
        )
        assert result.success, result.error
        assert result.parses == 1 and result.manifest is not None
        written = json.loads((base / "target" / "manifest.json").read_text())
        return result.manifest, written, db
    finally:
        mp.undo()


def test_continued_tables_are_the_incremental_models_and_snapshots(parsed: tuple) -> None:
    manifest, written, _ = parsed
    nodes = written["nodes"].values()
    expected = {
        (n["config"]["schema"], n["alias"])
        for n in nodes
        if n["config"].get("materialized") in CONTINUED and n["config"].get("enabled", True)
    }
    got = continued_tables(manifest, PUBLISHED_SCHEMAS)
    assert got == expected
    assert ("marts", "fct_incidents") in got and ("snapshots", "snap_incidents") in got
    # Far fewer than the tables a build writes: the rest is rebuilt, never copied.
    tables = {
        (n["config"]["schema"], n["alias"])
        for n in nodes
        if n["config"].get("materialized") == "table"
    }
    assert tables and not tables & got
    assert continued_tables(manifest, ("ml",)) == set()


def test_published_manifest_points_every_relation_at_the_published_schemas(parsed: tuple) -> None:
    manifest, _, _ = parsed
    published = published_manifest(manifest)
    for uid, node in [*manifest.nodes.items(), *manifest.sources.items()]:
        moved = (published.nodes | published.sources)[uid]
        if node.schema.startswith(AUDIT_PREFIX):
            assert moved.schema == node.schema[len(AUDIT_PREFIX) :], uid
            if node.relation_name:
                assert f'"{moved.schema}"' in moved.relation_name, uid
                assert AUDIT_PREFIX not in moved.relation_name, uid
        else:
            assert moved.schema == node.schema, uid
    # The ML sources are prefixed at parse time too; the audit manifest is left as it was.
    forecasts = next(s for s in published.sources.values() if s.name == "forecasts")
    assert forecasts.schema == "ml"
    assert any(s.schema == "audit_ml" for s in manifest.sources.values())


def test_a_call_given_the_manifest_does_not_parse(parsed: tuple, tmp_path: Path) -> None:
    """The published manifest compiles against the published schemas with no second parse."""
    manifest, _, db = parsed
    target = tmp_path / "target"
    env = {"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": "ci", "DBT_TARGET_PATH": str(target)}
    result = run_dbt(
        "compile",
        select=["fct_forecasts"],
        vars={**VARS, "schema_prefix": ""},
        target="ci",
        env=env,
        manifest=published_manifest(manifest),
    )
    assert result.success, result.error
    assert result.parses == 0
    compiled = next(target.rglob("fct_forecasts.sql")).read_text()
    assert '"ml"."forecasts"' in compiled and "audit_" not in compiled


def test_bigquery_relations_are_re_pointed_within_the_dataset_prefix(
    parsed: tuple, tmp_path: Path
) -> None:
    """On BigQuery a dataset is ``<prefix><schema>`` and relations are quoted with backticks.

    Parsing needs no connection: the emulator endpoint only selects the dummy-token profile.
    """
    env = {
        "BLOTTER_TARGET": "prod",
        "BLOTTER_GCP_PROJECT": "blotter-test",
        "BLOTTER_BQ_DATASET_PREFIX": "blotter_",
        "BLOTTER_BQ_API_ENDPOINT": "http://127.0.0.1:9",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
    }
    result = run_dbt("parse", vars=VARS, target="prod", env=env)
    assert result.success, result.error
    manifest = result.manifest
    assert continued_tables(manifest, PUBLISHED_SCHEMAS) == continued_tables(
        parsed[0], PUBLISHED_SCHEMAS
    )
    published = published_manifest(manifest)
    fct = next(n for n in published.nodes.values() if n.name == "fct_incidents")
    assert fct.schema == "blotter_marts"
    assert fct.relation_name == "`blotter-test`.`blotter_marts`.`fct_incidents`"
    forecasts = next(s for s in published.sources.values() if s.name == "forecasts")
    assert forecasts.schema == "blotter_ml" and "audit_" not in str(forecasts.relation_name)
