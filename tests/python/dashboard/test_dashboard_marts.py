"""Issue 15.5: the dashboard reads contracted marts only, and those marts say what ml/ops hold.

The marts are checked on ``healthy_db`` (``blotter run`` on the replay city) against the tables
they are built from, read here with SQL of their own: the registry mart against the JSON that
ml/ writes, the performance mart against the backtest table, the run history against the ledger.
The source checks read the dashboard's code: no relation outside ``marts``, none that is not a
contracted dbt model, no engine named, no DuckDB-only SQL.
"""

from __future__ import annotations

import ast
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import yaml

from dashboard import relations
from dashboard.area import load_area
from dashboard.overview import load_overview
from engines.duckdb.reader import DuckDBReader
from orchestration import ledger

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = REPO / "dashboard"


def _q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _contracted_models() -> dict[str, set[str]]:
    """Columns of every model declared in models/marts/**.yml (marts enforce contracts)."""
    models: dict[str, set[str]] = {}
    for path in (REPO / "models" / "marts").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            models[model["name"]] = {c["name"] for c in model.get("columns") or []}
    return models


def test_the_dashboard_reads_contracted_marts_only() -> None:
    models = _contracted_models()
    assert {"dim_forecast_models", "fct_forecast_performance", "fct_pipeline_runs"} <= set(models)
    for schema, table in relations.RELATIONS:
        assert schema == "marts", (schema, table)
        assert table in models, f"{table} is no documented mart"
    # Every relation constant the page uses is in RELATIONS (none read around it).
    named = {
        value
        for name in dir(relations)
        if isinstance(value := getattr(relations, name), tuple)
        and len(value) == 2
        and all(isinstance(part, str) for part in value)
        and name.isupper()
        and name != "FREQS"
    }
    assert named == set(relations.RELATIONS)


def _code_strings_and_imports(path: Path) -> tuple[list[str], list[str]]:
    """String constants (docstrings left out) and imported module names of one module."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]
    imports = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    return strings, imports


def test_the_dashboard_names_no_engine_and_writes_portable_sql() -> None:
    engine_lines = []
    for path in sorted(DASHBOARD.glob("*.py")):
        strings, imports = _code_strings_and_imports(path)
        sql = " ".join(strings).lower()
        for dialect_only in ("filter (where", "::", "ml.", "ops."):
            assert dialect_only not in sql, f"{path.name}: {dialect_only!r}"
        for module in imports:
            # The page builds its reader the way every command builds its engine: from the
            # settings, through the one factory. Nothing else of orchestration, no engine library.
            if module in ("orchestration.settings", "orchestration.session"):
                continue
            assert not module.startswith(("duckdb", "google", "orchestration")), module
            if module.startswith(("engines.duckdb", "engines.bigquery")):
                engine_lines.append((path.name, module))
    # The app asks the target's engine for its reader (engine.reader()); no engine is named.
    assert engine_lines == []


def test_the_registry_mart_unpacks_every_served_cell(healthy_db: Path) -> None:
    runs = _q(healthy_db, "select run_id, model_version, status, metrics from ml.model_runs")
    assert runs
    expected = set()
    for run_id, version, status, metrics in runs:
        for freq, summary in json.loads(metrics).items():
            for level, buckets in (summary.get("serving") or {}).items():
                for bucket, method in buckets.items():
                    expected.add((run_id, version, status, freq, level, bucket, method))
    assert expected  # the run served forecasts: something to unpack
    got = set(
        _q(
            healthy_db,
            "select forecast_run_id, model_version, status, freq, geo_level, horizon_bucket, "
            "serving_method from marts.dim_forecast_models",
        )
    )
    assert got == expected
    champions = _q(
        healthy_db,
        "select distinct forecast_run_id from marts.dim_forecast_models where is_champion",
    )
    assert champions == _q(healthy_db, "select run_id from ml.model_runs where status = 'champion'")


def test_the_performance_mart_is_the_backtest_with_the_run_status(healthy_db: Path) -> None:
    columns = (
        "forecast_run_id, model_version, freq, geo_level, method, is_selected, n, mae, rmse, "
        "mase, mae_seasonal_naive, coverage_80, coverage_95, backtest_origins, created_at"
    )
    mart = _q(healthy_db, f"select {columns}, run_status from marts.fct_forecast_performance")
    source = _q(
        healthy_db,
        f"select p.*, r.status from (select {columns} from ml.model_performance) p "
        "left join ml.model_runs r on p.forecast_run_id = r.run_id",
    )
    assert len(mart) > 0 and sorted(mart, key=repr) == sorted(source, key=repr)


def test_the_run_history_is_live_and_survives_a_renamed_file(
    healthy_db: Path, tmp_path: Path
) -> None:
    """A view over the ledger: a failed run never publishes, yet the page must show it."""
    db = tmp_path / "renamed.duckdb"  # DuckDB's catalog is named after the file
    shutil.copy(healthy_db, db)
    run = ledger.RunRecord(run_id="run-late-failure", as_of=date.today(), target="dev")
    ledger.record(db, run)  # after the publish: no mart table could hold it
    run.status, run.ended_at, run.error = "failed", datetime.now(UTC), "source unreachable"
    ledger.record(db, run)
    overview = load_overview(DuckDBReader(db))
    assert overview.notes == []
    latest = overview.runs.iloc[0]
    assert (latest["run_id"], latest["status"], latest["error"]) == (
        "run-late-failure",
        "failed",
        "source unreachable",
    )
    ledger_rows = _q(db, "select run_id, status from ops.run_ledger order by started_at desc")
    assert overview.runs[["run_id", "status"]].apply(tuple, axis=1).tolist() == ledger_rows


def test_the_page_shows_what_served_each_level_and_horizon(healthy_db: Path) -> None:
    overview = load_overview(DuckDBReader(healthy_db))
    view = load_area(DuckDBReader(healthy_db), "weekly", "city", overview.geos["city"][0], None)
    assert view.notes == [] and not view.serving.empty
    run = view.forecasts["forecast_run_id"].iloc[0]
    (metrics,) = _q(healthy_db, "select metrics from ml.model_runs where run_id = ?", [run])[0]
    serving = json.loads(metrics)["weekly"]["serving"]
    shown = {(r.geo_level, r.horizon_bucket): r.serving_method for r in view.serving.itertuples()}
    assert shown == {(lv, b): m for lv, cells in serving.items() for b, m in cells.items()}
    assert set(view.serving["horizon_bucket"]) <= {"1-7d", "2-4w", "1-3m", "3-12m"}
