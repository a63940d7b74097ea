"""The ML tables are declared once (``ml/tables.py``); the dbt sources and both engines follow."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import yaml

from engines.duckdb import DuckDBEngine
from ml import tables
from ml.warehouse import SOURCE_TYPES, open_warehouse

SOURCES = Path(__file__).resolve().parents[3] / "models/marts/forecasting/_forecasting__sources.yml"


def _declared() -> dict[str, list[dict]]:
    (source,) = yaml.safe_load(SOURCES.read_text())["sources"]
    return {t["name"]: t["columns"] for t in source["tables"]}


def test_sources_yaml_names_the_schema_columns_in_order() -> None:
    declared = _declared()
    assert set(declared) == set(tables.ML_TABLES)
    for name, schema in tables.ML_TABLES.items():
        assert [c["name"] for c in declared[name]] == schema.names, name
        # dbt's create_ml_sources hook creates empty tables from these types.
        assert {c["name"]: c["data_type"] for c in declared[name]} == SOURCE_TYPES[name], name
        assert all(c.get("description") for c in declared[name]), name


def test_duckdb_ddl_comes_from_the_arrow_schema(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    store = open_warehouse(DuckDBEngine(path))
    row = {
        "run_id": "r1",
        "model_version": "v1",
        "status": "champion",
        "trained_at": datetime(2025, 1, 2, 3, 4),
        "data_cutoff": date(2025, 1, 1),
        "params": "{}",
        "metrics": "{}",
        "score": 0.5,
        "status_reason": "first",
        "promoted_at": None,
        "updated_at": datetime(2025, 1, 2, 3, 4),
    }
    store.replace_rows(pd.DataFrame([row]), "scratch_ml", "model_runs", ["run_id"])
    with duckdb.connect(str(path), read_only=True) as con:
        got = con.execute("select * from scratch_ml.model_runs").arrow().schema
    assert got.names == tables.MODEL_RUNS.names
    assert got.field("trained_at").type == pa.timestamp("us")  # naive, as declared
    assert got.field("data_cutoff").type == pa.date32()
