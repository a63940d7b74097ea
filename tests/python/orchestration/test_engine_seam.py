"""The engine seam (issue 15 item 1): one package knows the engines, everything else asks it."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import engines
from engines.bigquery import BigQueryEngine, DestinationError
from engines.duckdb import DuckDBEngine
from engines.env import scoped_env

REPO = Path(__file__).resolve().parents[3]
BLOTTER_PACKAGES = {"engines", "ingestion", "ml", "orchestration", "dashboard", "replay"}
ENGINE_LIBRARIES = {"duckdb", "google", "dlt.destinations"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_engines_import_no_other_blotter_package() -> None:
    for path in (REPO / "engines").rglob("*.py"):
        foreign = {n for n in _imports(path) if n.split(".")[0] in BLOTTER_PACKAGES - {"engines"}}
        assert not foreign, f"{path.relative_to(REPO)} imports {foreign}"


@pytest.mark.parametrize("package", ["orchestration", "ml"])
def test_only_engines_import_engine_libraries(package: str) -> None:
    for path in (REPO / package).rglob("*.py"):
        found = {
            n
            for n in _imports(path)
            if any(n == lib or n.startswith(lib + ".") for lib in ENGINE_LIBRARIES)
        }
        assert not found, f"{path.relative_to(REPO)} imports {found}: go through engines/"


def test_engine_for_builds_the_engine_of_each_target(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    for target in ("dev", "ci"):
        engine = engines.engine_for(target, duckdb_path=path)
        assert isinstance(engine, DuckDBEngine) and engine.target == target
        assert engine.dbt_env() == {"BLOTTER_TARGET": target, "BLOTTER_DUCKDB_PATH": str(path)}
    prod = engines.engine_for(
        "prod", duckdb_path=path, gcp_project="p-1", bq_dataset_prefix="b_", bq_location="EU"
    )
    assert isinstance(prod, BigQueryEngine) and prod.is_shared and not engine.is_shared
    assert prod.dbt_env()["BLOTTER_BQ_DATASET_PREFIX"] == "b_"
    assert prod.dbt_extra_args("build") == ("--exclude-resource-type", "unit_test")
    with pytest.raises(DestinationError, match="BLOTTER_BQ_DATASET_PREFIX"):
        engines.engine_for("prod", duckdb_path=path, gcp_project="p", bq_dataset_prefix="a-b")
    with pytest.raises(DestinationError, match="unknown target"):
        engines.engine_for("staging", duckdb_path=path)


def test_scoped_env_sets_hides_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOTTER_TARGET", "dev")
    monkeypatch.setenv("BLOTTER_PSEUDONYM_KEY", "s3cret")
    monkeypatch.delenv("BLOTTER_GCP_PROJECT", raising=False)
    wanted = {"BLOTTER_TARGET": "prod", "BLOTTER_GCP_PROJECT": "p", "BLOTTER_KEYFILE": None}
    with scoped_env({**wanted, "BLOTTER_PSEUDONYM_KEY": "x"}, hide=("BLOTTER_PSEUDONYM_KEY",)):
        assert os.environ["BLOTTER_TARGET"] == "prod" and os.environ["BLOTTER_GCP_PROJECT"] == "p"
        assert "BLOTTER_PSEUDONYM_KEY" not in os.environ  # hiding wins over setting
        assert "BLOTTER_KEYFILE" not in os.environ  # None: left alone
    assert os.environ["BLOTTER_TARGET"] == "dev" and os.environ["BLOTTER_PSEUDONYM_KEY"] == "s3cret"
    assert "BLOTTER_GCP_PROJECT" not in os.environ


def test_every_warehouse_command_takes_target() -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    commands = ["run", "rekey", "runs", "ingest", "transform", "forecast"]
    for argv in [[c] for c in commands] + [["model", m] for m in ("list", "approve", "rollback")]:
        result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "200"})
        assert "--target" in result.stdout, argv


def test_the_ledger_row_is_declared_once_and_older_ledgers_gain_its_columns(
    tmp_path: Path,
) -> None:
    import duckdb

    from engines.bigquery.ledger import _TYPES
    from engines.duckdb.ledger import DuckDBLedger
    from engines.ledger_table import COLUMNS, LEDGER, is_json

    # BigQuery's table comes from the declaration: same columns, JSON held as STRING.
    assert tuple(_TYPES) == COLUMNS
    assert {c for c, t in _TYPES.items() if t == "STRING"} >= {f.name for f in LEDGER if is_json(f)}
    # A ledger written before command/pid/host/notes existed gains them on the next write.
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema ops")
        con.execute(
            "create table ops.run_ledger (run_id varchar primary key, as_of date not null, "
            "target varchar not null, status varchar not null, steps json, "
            "started_at timestamptz not null, ended_at timestamptz, rows_fetched bigint, "
            "rows_loaded bigint, rows_rejected bigint, tests_passed integer, "
            "tests_failed integer, failing_tests json, error varchar)"
        )
    row = dict.fromkeys(COLUMNS)
    row |= {"run_id": "r1", "as_of": "2024-06-10", "target": "dev", "status": "succeeded"}
    row |= {"started_at": "2024-06-10T00:00:00+00:00", "command": "run", "pid": 7}
    ledger = DuckDBLedger(path)
    ledger.upsert(row)
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("describe ops.run_ledger").fetchall()]
    assert names == list(COLUMNS)
    (stored,) = ledger.rows(5)
    assert (stored["command"], stored["pid"], stored["status"]) == ("run", 7, "succeeded")


def test_duckdb_landing_caps_the_load_memory(tmp_path: Path) -> None:
    # Without the cap DuckDB's buffer pool grew with a backfill's insert (1.5 GiB at 1M rows).
    import dlt

    with DuckDBEngine(tmp_path / "w.duckdb").landing() as destination:
        pipeline = dlt.pipeline(
            "cap", destination=destination, dataset_name="raw", pipelines_dir=str(tmp_path / "p")
        )
        pipeline.run([{"a": 1}], table_name="t")
        with pipeline.sql_client() as client:
            limit = client.execute_sql("select current_setting('memory_limit')")[0][0]
    assert limit == "488.2 MiB"  # 512MB
