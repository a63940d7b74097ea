"""Pipeline and registry on a real DuckDB file: tables, idempotency, promotion, overrides."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from engines.duckdb import DuckDBEngine
from ml.config import ForecastConfig
from ml.pipeline import PipelineResult, run_pipeline
from ml.registry import RegistryError, approve, decide, load_runs, rollback
from ml.warehouse import WarehouseError, open_warehouse


def query(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).df()


def test_pipeline_fills_every_freq_and_geo_level(
    warehouse_path: Path, pipeline_run: PipelineResult
) -> None:
    assert pipeline_run.status == "champion"
    grid = query(
        warehouse_path,
        "select freq, geo_level, count(distinct geo) as geos, count(*) as n "
        "from audit_ml.forecasts group by all",
    )
    assert len(grid) == 12  # 3 frequencies x 4 geography levels
    horizons = {"daily": 28, "weekly": 12, "monthly": 6}
    assert (grid["n"] == grid["geos"] * grid["freq"].map(horizons)).all()
    bad = query(
        warehouse_path,
        "select count(*) as n from audit_ml.forecasts where not (0 <= yhat_lower_95 and "
        "yhat_lower_95 <= yhat_lower_80 and yhat_lower_80 <= yhat and yhat <= yhat_upper_80 "
        "and yhat_upper_80 <= yhat_upper_95)",
    )
    assert bad["n"].iloc[0] == 0
    perf = query(
        warehouse_path,
        "select freq, mase, coverage_80, coverage_95, n from audit_ml.model_performance "
        "where geo_level = 'all' and is_selected",
    ).set_index("freq")
    assert perf.loc["daily", "mase"] < 1 and perf.loc["weekly", "mase"] < 1
    assert (perf["n"] > 0).all()


def test_rewriting_a_run_is_idempotent(warehouse_path: Path, pipeline_run) -> None:
    wh = open_warehouse(DuckDBEngine(warehouse_path))
    before = query(warehouse_path, "select count(*) as n from audit_ml.forecasts")["n"].iloc[0]
    rows = wh.read_table("audit_ml", "forecasts")
    mine = rows[rows["forecast_run_id"] == pipeline_run.run_id]
    wh.replace_rows(mine, "audit_ml", "forecasts", ["forecast_run_id"])
    wh.replace_rows(mine, "audit_ml", "forecasts", ["forecast_run_id"])
    after = query(warehouse_path, "select count(*) as n from audit_ml.forecasts")["n"].iloc[0]
    assert after == before


def test_bad_schema_names_are_refused(warehouse_path: Path) -> None:
    with pytest.raises(WarehouseError, match="invalid schema"):
        open_warehouse(DuckDBEngine(warehouse_path)).read_counts("marts; drop table x")
    with pytest.raises(WarehouseError, match="does not exist"):
        open_warehouse(DuckDBEngine(warehouse_path)).read_counts("marts")


def test_promotion_gate_and_tolerance() -> None:
    config = ForecastConfig(promotion_tolerance=0.05)
    good = {"daily": {"mase": 0.70}, "weekly": {"mase": 0.80}, "monthly": {"mase": 0.9}}
    champion = pd.Series({"run_id": "old"})
    assert decide(good, config, None, None).status == "champion"
    assert decide(good, config, champion, 0.80).status == "champion"  # 0.80 <= 0.80*1.05
    assert decide(good, config, champion, 0.78).status == "champion"  # within tolerance
    rejected = decide(good, config, champion, 0.70)
    assert rejected.status == "rejected" and "tolerance" in rejected.reason
    bad = {**good, "weekly": {"mase": 1.2}}
    assert decide(bad, config, champion, 5.0).status == "rejected"
    first = decide(bad, config, None, None)
    assert first.status == "champion" and "gate not met" in first.reason


def test_registry_reject_approve_rollback(
    warehouse_path: Path, pipeline_run: PipelineResult, tmp_path: Path
) -> None:
    # Start from the session's warehouse, whose first run is already the champion.
    path = shutil.copy(warehouse_path, tmp_path / "registry.duckdb")
    wh = open_warehouse(DuckDBEngine(path))
    first = pipeline_run
    assert load_runs(wh, "audit_ml").set_index("run_id").loc[first.run_id, "status"] == "champion"
    # A deliberately weak challenger (one shallow tree) with a strict tolerance is rejected:
    # the champion's configuration is re-backtested on the same data and wins.
    weak = ForecastConfig(max_iter=1, max_leaf_nodes=2, promotion_tolerance=0.0, peers={})
    second = run_pipeline(wh, weak, "audit_marts", "audit_ml")
    assert second.status == "rejected"
    runs = load_runs(wh, "audit_ml").set_index("run_id")
    assert runs.loc[first.run_id, "status"] == "champion"

    approve(wh, "audit_ml", second.run_id, datetime(2030, 1, 1))
    runs = load_runs(wh, "audit_ml").set_index("run_id")
    assert runs.loc[second.run_id, "status"] == "champion"
    assert runs.loc[first.run_id, "status"] == "retired"
    with pytest.raises(RegistryError, match="already the champion"):
        approve(wh, "audit_ml", second.run_id, datetime(2030, 1, 2))
    with pytest.raises(RegistryError, match="no model run"):
        approve(wh, "audit_ml", "nope", datetime(2030, 1, 2))

    assert rollback(wh, "audit_ml", datetime(2030, 1, 3)) == first.run_id
    runs = load_runs(wh, "audit_ml").set_index("run_id")
    assert runs.loc[first.run_id, "status"] == "champion"
    assert runs.loc[second.run_id, "status"] == "rejected"
    assert (runs["status"] == "champion").sum() == 1
    with pytest.raises(RegistryError, match="no earlier champion"):
        rollback(wh, "audit_ml", datetime(2030, 1, 4))


def test_registry_records_the_method_of_every_level_freq_and_bucket(
    warehouse_path: Path, pipeline_run: PipelineResult
) -> None:
    """ml.model_runs.metrics: which method serves each level x freq x horizon bucket (14)."""
    import json

    runs = load_runs(open_warehouse(DuckDBEngine(warehouse_path)), "audit_ml").set_index("run_id")
    metrics = json.loads(runs.loc[pipeline_run.run_id, "metrics"])
    expected = {"daily": {"1-7d", "2-4w"}, "weekly": {"1-7d", "2-4w", "1-3m"},
                "monthly": {"1-3m", "3-12m"}}  # fmt: skip
    levels = {"city", "police_district", "council_district", "neighborhood"}
    for freq, buckets in expected.items():
        serving = metrics[freq]["serving"]
        assert set(serving) == levels, freq
        for level, cells in serving.items():
            assert set(cells) == buckets, (freq, level)
        assert set(metrics[freq]["buckets"]) == buckets
        for bucket, stats in metrics[freq]["buckets"].items():
            assert 0 <= stats["coverage_80"] <= 1 and stats["n"] > 0, (freq, bucket)
