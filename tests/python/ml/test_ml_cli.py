"""``blotter forecast`` and ``blotter model ...`` against a real warehouse file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ml.pipeline import PipelineResult
from orchestration.cli import app


def invoke(db: Path, *args: str):
    env = {"BLOTTER_DUCKDB_PATH": str(db)}
    return CliRunner().invoke(app, list(args), env=env)


def test_model_commands(warehouse_path: Path, pipeline_run: PipelineResult, tmp_path: Path):
    db = Path(shutil.copy(warehouse_path, tmp_path / "cli.duckdb"))
    listed = invoke(db, "model", "list", "--ml-schema", "audit_ml", "--json")
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.stdout)
    assert [(r["run_id"], r["status"]) for r in runs] == [(pipeline_run.run_id, "champion")]
    for args, needle in (
        (("model", "approve", "nope", "--ml-schema", "audit_ml"), "no model run 'nope'"),
        (("model", "rollback", "--ml-schema", "audit_ml"), "no earlier champion"),
        (("model", "list", "--ml-schema", "bad-name"), "invalid schema"),
        (("forecast", "--marts-schema", "nowhere"), "nowhere.fct_incident_counts does not"),
    ):
        result = invoke(db, *args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], result.stderr
