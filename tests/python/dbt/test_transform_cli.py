"""``blotter transform``: dbt build through the CLI, JSON summary, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import copy_db
from typer.testing import CliRunner

from orchestration.cli import app


@pytest.fixture()
def env(ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ingest-only warehouse: the CLI's first build (dev_ schemas) is its own."""
    db = copy_db(ingested, tmp_path / "warehouse")
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(db))
    monkeypatch.setenv("BLOTTER_TARGET", "ci")
    return db


def test_transform_builds_and_reports_per_node(env: Path) -> None:
    result = CliRunner().invoke(app, ["transform", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["success"] is True
    assert summary["tests_passed"] >= 40 and summary["tests_failed"] == 0
    rows = {n["name"]: n["rows"] for n in summary["nodes"]}
    assert rows["fct_incidents"] and rows["fct_incidents"] > 0


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]"])
def test_bad_vars_are_one_line_exit_2(env: Path, bad: str) -> None:
    result = CliRunner().invoke(app, ["transform", "--vars", bad])
    assert result.exit_code == 2
    assert "--vars" in result.output
