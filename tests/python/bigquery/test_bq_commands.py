"""Every command honours the target: ``ingest``, ``forecast`` and ``model list`` on prod
(``BLOTTER_TARGET=prod`` or ``--target prod``) read and write BigQuery, not the local file.

Issue 15: these three always used DuckDB. Kept small (two cheap CLI scenarios, in-process).
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bq_emulator import Emulator
from google.cloud import bigquery
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent.parent / "ml"))
from ml_synth import daily_neighbourhood_counts, fct_incident_counts  # noqa: E402

from orchestration.cli import app  # noqa: E402

PREFIX = "cmd_"
# The count mart's columns the forecaster reads (spelled out: this test also runs on old code).
COUNTS = {
    "period_start": ("DATE", pa.date32()),
    "freq": ("STRING", pa.string()),
    "geo_level": ("STRING", pa.string()),
    "geo": ("STRING", pa.string()),
    "incidents": ("INT64", pa.int64()),
    "is_complete_period": ("BOOL", pa.bool_()),
}
START, DAY = date(2025, 6, 8), date(2025, 6, 10)


@pytest.fixture
def prod(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A prod deployment on the emulator; returns the local file (run lock, ledger)."""
    for key in [k for k in __import__("os").environ if k.startswith("BLOTTER_")]:
        monkeypatch.delenv(key)
    local = tmp_path / "state.duckdb"
    for key, value in {
        "BLOTTER_TARGET": "prod",
        "BLOTTER_DUCKDB_PATH": str(local),
        "BLOTTER_START_DATE": START.isoformat(),
        "BLOTTER_PSEUDONYM_KEY": "commands-on-prod-test-key",
        "BLOTTER_GCP_PROJECT": emulator.project,
        "BLOTTER_BQ_API_ENDPOINT": emulator.endpoint,
        "BLOTTER_BQ_DATASET_PREFIX": PREFIX,
    }.items():
        monkeypatch.setenv(key, value)
    return local


def _count(emulator: Emulator, dataset: str, table: str) -> int:
    sql = f"select count(*) as n from `{emulator.project}`.`{PREFIX}{dataset}`.`{table}`"
    return next(iter(emulator.client().query(sql).result()))["n"]


def _local_schemas(local: Path) -> set[str]:
    if not local.exists():
        return set()
    with duckdb.connect(str(local), read_only=True) as con:
        return {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}


def test_ingest_on_prod_lands_in_bigquery(prod: Path, emulator: Emulator) -> None:
    result = CliRunner().invoke(app, ["ingest", "--as-of", DAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["loaded"] > 0
    assert _count(emulator, "raw", "incidents") == summary["raw_rows"]
    assert "raw" not in _local_schemas(prod)  # nothing landed in the local file


def test_forecast_and_model_list_on_prod_use_bigquery(prod: Path, emulator: Emulator) -> None:
    daily = daily_neighbourhood_counts(start="2023-01-01", end="2024-12-18", n_neighbourhoods=2)
    counts = fct_incident_counts(daily)
    client = emulator.client()
    client.create_dataset(f"{emulator.project}.{PREFIX}sandbox_marts", exists_ok=True)
    buffer = io.BytesIO()
    arrow = pa.schema([(name, kind) for name, (_, kind) in COUNTS.items()])
    pq.write_table(pa.Table.from_pandas(counts, schema=arrow, preserve_index=False), buffer)
    buffer.seek(0)
    client.load_table_from_file(
        buffer,
        f"{emulator.project}.{PREFIX}sandbox_marts.fct_incident_counts",
        job_config=bigquery.LoadJobConfig(
            schema=[bigquery.SchemaField(name, kind) for name, (kind, _) in COUNTS.items()],
            source_format=bigquery.SourceFormat.PARQUET,
        ),
    ).result()

    runner = CliRunner()
    args = ["--marts-schema", "sandbox_marts", "--ml-schema", "sandbox_ml", "--json"]
    result = runner.invoke(app, ["forecast", *args])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["forecasts"] > 0
    assert _count(emulator, "sandbox_ml", "forecasts") == out["forecasts"]

    # --target names the engine the same way: dev reads the (empty) local file.
    listed = runner.invoke(app, ["model", "list", "--ml-schema", "sandbox_ml", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [out["run_id"]]
    local = runner.invoke(
        app, ["model", "list", "--ml-schema", "sandbox_ml", "--target", "dev", "--json"]
    )
    assert local.exit_code == 0, local.output
    assert json.loads(local.stdout) == []
    assert "sandbox_ml" not in _local_schemas(prod)
