"""dbt on the ML outputs: sources' tests and the forecasting marts, on a real DuckDB file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from ml.pipeline import PipelineResult
from orchestration.dbt_runner import DbtRunResult, run_dbt

FORECASTING = ("path:models/marts/forecasting", "path:tests/dbt/forecasting")


def build(db: Path) -> DbtRunResult:
    """``dbt build`` of the forecasting nodes in write-audit-publish mode (audit_ schemas)."""
    env = {"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": "ci"}
    return run_dbt(
        "build", select=FORECASTING, vars={"schema_prefix": "audit_"}, target="ci", env=env
    )


@pytest.fixture(scope="module")
def built(
    warehouse_path: Path, pipeline_run: PipelineResult, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DbtRunResult]:
    db = Path(shutil.copy(warehouse_path, tmp_path_factory.mktemp("ml_dbt_db") / "w.duckdb"))
    return db, build(db)


def test_forecasting_marts_build_and_every_test_passes(built: tuple[Path, DbtRunResult]) -> None:
    db, result = built
    assert result.success, result.error or [n for n in result.nodes if n.status != "pass"]
    assert result.tests_passed >= 40 and result.tests_failed == 0
    with duckdb.connect(str(db)) as con:
        served = con.execute(
            "select count(*), count(distinct forecast_run_id) from audit_marts.fct_forecasts"
        ).fetchone()
        raw = con.execute(
            "select count(*) from audit_ml.forecasts f join audit_ml.model_runs r "
            "on f.forecast_run_id = r.run_id where r.status = 'champion'"
        ).fetchone()
    assert served == (raw[0], 1)


def test_missing_forecasts_fail_the_full_horizon_test(
    built: tuple[Path, DbtRunResult], tmp_path: Path
) -> None:
    db = Path(shutil.copy(built[0], tmp_path / "broken.duckdb"))
    with duckdb.connect(str(db)) as con:
        con.execute(  # one neighbourhood loses its first daily forecast
            "delete from audit_ml.forecasts where freq = 'daily' and geo = 'NB03' and "
            "period_start = (select min(period_start) from audit_ml.forecasts where freq = 'daily')"
        )
    result = build(db)
    failed = {n.name for n in result.nodes if n.status in ("fail", "error")}
    assert "assert_forecasts_cover_every_active_geography" in failed
