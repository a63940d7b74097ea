"""Issue 16 P3 (d37): dbt's descriptions reach DuckDB, and only the missing ones are written.

``duckdb__persist_docs`` (macros/relations.sql) compares a relation's comments with the model's
descriptions and writes only those that differ: a newly created or re-created relation gets every
comment, an incremental model that kept its comments gets none (dbt's default re-wrote every
comment of every model at every run), a lost or stale comment is written again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import copy_db, dbt, parsed_project, query

from orchestration.dbt_runner import PROJECT_DIR, DbtRunResult

# Incremental models whose comments the tampering below leaves alone.
UNTOUCHED = ("fct_incident_counts", "int_incidents_deduplicated", "int_incidents_counted")
# A lost table comment, and a stale column comment, on two incremental models.
LOST = "fct_incident_areas"
STALE = ("fct_incident_counts_by_type", "incidents")


def _models(db: Path) -> dict[str, Any]:
    """The project's models that persist their docs, by name (the manifest dbt builds with)."""
    manifest = parsed_project(
        {"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": "ci"}, PROJECT_DIR, None
    )
    assert manifest is not None
    return {
        n.name: n
        for n in manifest.nodes.values()
        if n.resource_type == "model" and n.config.persist_docs.get("relation")
    }


def _comments(db: Path, schema: str, name: str) -> tuple[str | None, dict[str, str | None]]:
    """(relation comment, {column: comment}) of one relation in the warehouse."""
    rows = query(
        db,
        "select null, comment from duckdb_tables() where schema_name = ? and table_name = ? "
        "union all select null, comment from duckdb_views() where schema_name = ? "
        "and view_name = ? union all select column_name, comment from duckdb_columns() "
        "where schema_name = ? and table_name = ?",
        [schema, name] * 3,
    )
    relation = [c for col, c in rows if col is None]
    assert relation, f"{schema}.{name} is not in the warehouse"
    return relation[0], {col: c for col, c in rows if col is not None}


def _missing_docs(db: Path) -> list[str]:
    """Descriptions of built models that their relation or its columns do not carry."""
    missing = []
    for name, node in _models(db).items():
        relation, columns = _comments(db, node.schema, node.alias)
        if node.description and relation != node.description:
            missing.append(name)
        missing += [
            f"{name}.{col}"
            for col, info in node.columns.items()
            if col in columns and columns[col] != info.description
        ]
    return missing


def _build_capturing(db: Path, **kwargs: Any) -> tuple[DbtRunResult, list[str]]:
    """A ``dbt build`` and the text of every SQL statement it sent."""
    sent: list[str] = []

    def capture(event: Any) -> None:
        if event.info.name == "SQLQuery":
            sent.append(event.data.sql)

    return dbt(db, callbacks=[capture], **kwargs), sent


def _commented(sent: list[str], name: str) -> list[str]:
    """The COMMENT statements sent for relation ``name`` (one per line)."""
    lines = (line.strip() for sql in sent for line in sql.splitlines())
    return [line for line in lines if line.startswith("comment on") and f'."{name}"' in line]


@pytest.fixture(scope="module")
def rebuilt(
    built: tuple[Path, DbtRunResult], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DbtRunResult, list[str]]:
    """The built warehouse with one comment lost and one stale, then built incrementally."""
    db = copy_db(built[0], tmp_path_factory.mktemp("d37_rebuilt"))
    models = _models(db)
    lost, stale = models[LOST], models[STALE[0]]
    query(db, f'comment on table "{lost.schema}"."{lost.alias}" is null')
    query(db, f'comment on column "{stale.schema}"."{stale.alias}".{STALE[1]} is \'stale\'')
    result, sent = _build_capturing(db)
    return db, result, sent


def test_a_new_warehouse_carries_every_description(built: tuple[Path, DbtRunResult]) -> None:
    db, result = built
    assert result.success, result.failing_tests + result.failing_nodes
    assert len(_models(db)) > 15
    assert _missing_docs(db) == []


def test_an_incremental_build_writes_only_the_missing_comments(
    rebuilt: tuple[Path, DbtRunResult, list[str]],
) -> None:
    db, result, sent = rebuilt
    assert result.success, result.failing_tests + result.failing_nodes
    for name in UNTOUCHED:
        assert result.node(name).status == "success"
        assert _commented(sent, name) == [], name
    # The lost table comment and the stale column are written, nothing else of theirs.
    assert [s.split(" is ")[0] for s in _commented(sent, LOST)] == [
        f'comment on table "blotter"."{_models(db)[LOST].schema}"."{LOST}"'
    ]
    assert [s.split(" is ")[0].rsplit(".", 1)[1] for s in _commented(sent, STALE[0])] == [STALE[1]]
    # Views and tables are re-created by every build: they get every comment again.
    assert _commented(sent, "stg_socrata__incidents") and _commented(sent, "dim_date")
    assert _missing_docs(db) == []


def test_a_recreated_incremental_model_carries_its_comments(
    rebuilt: tuple[Path, DbtRunResult, list[str]], tmp_path: Path
) -> None:
    db = copy_db(rebuilt[0], tmp_path / "refreshed")
    result, sent = _build_capturing(db, select=["fct_incidents"], full_refresh=True)
    assert result.success, result.failing_tests + result.failing_nodes
    node = _models(db)["fct_incidents"]
    assert len(_commented(sent, "fct_incidents")) == 1 + len(node.columns)
    assert _missing_docs(db) == []
