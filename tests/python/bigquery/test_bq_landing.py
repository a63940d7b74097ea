"""Raw landing with dlt's BigQuery destination into the emulator, compared with DuckDB landing."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest
from bq_emulator import Emulator

from engines import engine_for
from engines.base import landing_state_dir
from engines.bigquery import BigQueryEngine, BigQueryTarget, DestinationError
from engines.bigquery.landing import bigquery_endpoint
from engines.bigquery.target import bigquery_client
from engines.duckdb import DuckDBEngine

START = date(2025, 5, 20)
DAY1, DAY2 = date(2025, 6, 9), date(2025, 6, 10)


def _bq_rows(target: BigQueryTarget, dataset: str) -> dict[str, str]:
    client = bigquery_client(target)
    sql = f"select case_number, socrata_updated_at from `{target.project}.{dataset}.incidents`"
    return {r["case_number"]: r["socrata_updated_at"] for r in client.query(sql).result()}


def _duck_rows(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select case_number, socrata_updated_at from raw.incidents").fetchall()
    return dict(rows)


def test_two_days_land_in_bigquery_like_in_duckdb(emulator: Emulator, tmp_path: Path) -> None:
    from ingestion.pipeline import ingest

    # Its own project in the shared emulator, and a dataset prefix: lands in land_raw.
    target = BigQueryTarget(
        project="blotter-landing", dataset_prefix="land_", api_endpoint=emulator.endpoint
    )
    bq_local, duck_path = tmp_path / "bq" / "state.duckdb", tmp_path / "duck" / "blotter.duckdb"
    for day in (DAY1, DAY2):
        with BigQueryEngine(target, bq_local).landing() as destination:
            bq = ingest(
                None,
                landing_state_dir(bq_local),
                START,
                as_of=day,
                show_progress=False,
                destination=destination,
            )
        with DuckDBEngine(duck_path).landing() as destination:
            dk = ingest(
                None,
                landing_state_dir(duck_path),
                START,
                as_of=day,
                show_progress=False,
                destination=destination,
            )
        # Same source, same accounting on both engines.
        assert (bq.fetched, bq.loaded, bq.rejected, bq.raw_rows) == (
            dk.fetched,
            dk.loaded,
            dk.rejected,
            dk.raw_rows,
        )
        assert bq.fetched == bq.loaded + bq.rejected
    assert bq.loaded > 0  # day 2 brought new and revised incidents (merge, not append)

    landed = _bq_rows(target, target.raw_dataset)
    assert len(landed) == bq.raw_rows  # one row per case_number after two merges
    assert landed == _duck_rows(duck_path)
    assert target.raw_dataset == "land_raw"
    # The endpoint and the dataset layout were scoped to the block.
    assert not os.environ.get("BIGQUERY_EMULATOR_HOST")
    assert not os.environ.get("DATASET_NAME_LAYOUT")


def test_dev_and_ci_land_in_duckdb(tmp_path: Path) -> None:
    for target in ("dev", "ci"):
        engine = engine_for(target, duckdb_path=tmp_path / "w.duckdb")
        with engine.landing() as destination:
            assert destination.destination_name == "duckdb"


def test_bad_targets_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DestinationError, match="unknown target"):
        engine_for("staging", duckdb_path=tmp_path / "w.duckdb")
    with pytest.raises(DestinationError, match="BLOTTER_GCP_PROJECT"):
        engine_for("prod", duckdb_path=tmp_path / "w.duckdb")
    with pytest.raises(DestinationError, match="BLOTTER_GCP_PROJECT"):
        BigQueryTarget(project="")
    with pytest.raises(DestinationError, match="BLOTTER_BQ_KEYFILE"):
        BigQueryTarget(project="p", auth_method="service-account")
    with pytest.raises(DestinationError, match="not one of"):
        BigQueryTarget(project="p", auth_method="password")


def test_endpoint_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:1")
    with bigquery_endpoint("http://127.0.0.1:2"):
        assert os.environ["BIGQUERY_EMULATOR_HOST"] == "http://127.0.0.1:2"
        assert os.environ["DATA_WRITER__DISABLE_COMPRESSION"] == "true"
    assert os.environ["BIGQUERY_EMULATOR_HOST"] == "http://127.0.0.1:1"
    assert "DATA_WRITER__DISABLE_COMPRESSION" not in os.environ
