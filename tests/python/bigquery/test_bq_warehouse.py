"""The BigQuery ML store behaves like the DuckDB one: same frames in, same frames out."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from bq_emulator import Emulator

from engines.base import MLStore
from engines.bigquery import BigQueryEngine, BigQueryTarget
from engines.bigquery.target import bigquery_client
from engines.duckdb import DuckDBEngine
from ml.warehouse import TABLES, WarehouseError, open_warehouse

COUNTS = [
    (date(2025, 6, 2), "weekly", "city", "Buffalo", 140, True),
    (date(2025, 6, 9), "weekly", "city", "Buffalo", 31, False),
    (date(2025, 6, 9), "daily", "police_district", "District A", 0, True),
]


def _forecasts(run: str, yhat: float) -> pd.DataFrame:
    rows = [
        (run, "v1", "daily", "city", "Buffalo", date(2025, 6, 11), yhat, 1.0, 9.0, 0.5, 12.0),
        (run, "v1", "daily", "city", "Buffalo", date(2025, 6, 12), yhat + 1, 1.0, 9.0, 0.5, 12.0),
    ]
    frame = pd.DataFrame(rows, columns=list(TABLES["forecasts"])[:-1])
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    frame["created_at"] = pd.Timestamp(datetime(2025, 6, 10, 6, 30))
    return frame


@pytest.fixture
def pair(emulator: Emulator, tmp_path: Path) -> tuple[MLStore, MLStore]:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_incident_counts (period_start date, freq varchar, "
            "geo_level varchar, geo varchar, incidents bigint, is_complete_period boolean)"
        )
        con.executemany("insert into marts.fct_incident_counts values (?, ?, ?, ?, ?, ?)", COUNTS)
    target = BigQueryTarget(
        project=emulator.project, dataset_prefix="mlio_", api_endpoint=emulator.endpoint
    )
    client = bigquery_client(target)
    client.create_dataset(f"{target.project}.mlio_marts", exists_ok=True)
    values = ", ".join(
        f"(date '{d}', '{f}', '{lvl}', '{g}', {n}, {str(c).lower()})"
        for d, f, lvl, g, n, c in COUNTS
    )
    client.query(
        f"create or replace table `{target.project}.mlio_marts.fct_incident_counts` as "
        "select * from unnest(array<struct<period_start date, freq string, geo_level string, "
        f"geo string, incidents int64, is_complete_period bool>>[{values}])"
    ).result()
    return open_warehouse(DuckDBEngine(path)), open_warehouse(BigQueryEngine(target, path))


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns[:6])).reset_index(drop=True)


def test_same_frames_from_both_engines(pair: tuple[MLStore, MLStore]) -> None:
    duck, bq = pair
    pd.testing.assert_frame_equal(_sorted(bq.read_counts()), _sorted(duck.read_counts()))

    # Missing ML table: empty frame with the table's columns on both.
    assert list(bq.read_table("ml", "forecasts").columns) == list(TABLES["forecasts"])
    assert bq.read_table("ml", "forecasts").empty and duck.read_table("ml", "forecasts").empty

    for wh in pair:
        assert wh.replace_rows(_forecasts("r1", 5.0), "ml", "forecasts", ["forecast_run_id"]) == 2
        wh.replace_rows(_forecasts("r2", 7.0), "ml", "forecasts", ["forecast_run_id"])
        # Same key again: replaced, not appended.
        wh.replace_rows(_forecasts("r1", 6.0), "ml", "forecasts", ["forecast_run_id"])
    got, want = (_sorted(w.read_table("ml", "forecasts")) for w in (bq, duck))
    assert len(got) == 4 and sorted(got["yhat"]) == [6.0, 7.0, 7.0, 8.0]
    pd.testing.assert_frame_equal(got, want)
    # Naive timestamps stay naive: DATETIME, as the dbt contracts on ml.* expect.
    schema = bq.client.get_table(f"{bq.project}.mlio_ml.forecasts").schema  # type: ignore[attr-defined]
    assert {f.name: f.field_type for f in schema}["created_at"] == "DATETIME"


def test_errors_are_warehouse_errors(pair: tuple[MLStore, MLStore]) -> None:
    _, bq = pair
    with pytest.raises(WarehouseError, match="does not exist"):
        bq.read_counts("nothing_here")
    with pytest.raises(WarehouseError, match="invalid schema"):
        bq.read_table("ml; drop", "forecasts")
    with pytest.raises(WarehouseError, match="columns do not match"):
        bq.replace_rows(pd.DataFrame({"x": [1]}), "ml", "forecasts", ["forecast_run_id"])
