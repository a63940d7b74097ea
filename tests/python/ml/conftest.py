"""ML fixtures: replay-like synthetic counts and a real DuckDB file holding them as the mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from ml_synth import daily_neighbourhood_counts, fct_incident_counts

from engines.duckdb import DuckDBEngine
from ml.config import ForecastConfig
from ml.pipeline import PipelineResult, run_pipeline
from ml.warehouse import open_warehouse


@pytest.fixture(scope="session")
def counts() -> pd.DataFrame:
    """8 years of a 10-neighbourhood city (20 series per freq), last week/month partial."""
    daily = daily_neighbourhood_counts(start="2017-01-01", end="2024-12-18", n_neighbourhoods=10)
    return fct_incident_counts(daily)


def write_mart(path: Path, frame: pd.DataFrame, schema: str = "marts") -> Path:
    """A DuckDB file with ``<schema>.fct_incident_counts`` = ``frame``."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema if not exists {schema}")
        con.register("frame", frame)
        con.execute(f"create or replace table {schema}.fct_incident_counts as select * from frame")
    return path


@pytest.fixture(scope="session")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory, counts: pd.DataFrame) -> Path:
    """Warehouse file with the synthetic mart in schema ``audit_marts`` (write-audit-publish)."""
    return write_mart(tmp_path_factory.mktemp("ml") / "blotter.duckdb", counts, "audit_marts")


@pytest.fixture(scope="session")
def pipeline_run(warehouse_path: Path) -> PipelineResult:
    """One full pipeline run into ``audit_ml``."""
    return run_pipeline(
        open_warehouse(DuckDBEngine(warehouse_path)), ForecastConfig(), "audit_marts", "audit_ml"
    )
