"""Operator mistakes stop loudly with one line and change nothing; failures name their cause."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from duckdb_ingest import ingest_duckdb
from ingest_helpers import query
from real_samples import REAL_DATA
from typer.testing import CliRunner

from ingestion.landing import Landing, check_landing
from ingestion.pipeline import (
    IngestError,
    NoIncidentsError,
    SourceMismatchError,
    StartDateError,
)
from ingestion.socrata import adopt_legacy_cursor
from orchestration.cli import app
from replay.server import running_replay

AS_OF = date(2025, 6, 10)
START = date(2025, 6, 8)
REAL = REAL_DATA
CHICAGO_API = REAL / "chicago_ijzp-q8t2_api_sample_2025-05.csv"
BUFFALO_2019 = REAL / "buffalo_d6g9-xbgu_2019_layout_sample.csv"


def raw_tables(path: Path) -> dict[str, list[tuple]]:
    """Every raw table's rows, ordered: a change anywhere in raw shows up."""
    names = query(
        path,
        "select table_name from information_schema.tables where table_schema = 'raw' "
        "and table_name not like '_dlt%' order by 1",
    )
    return {n: sorted(map(repr, query(path, f'select * from raw."{n}"'))) for (n,) in names}


@pytest.fixture
def demo_warehouse(tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    env = {
        "BLOTTER_DUCKDB_PATH": str(tmp_path / "blotter.duckdb"),
        "BLOTTER_START_DATE": "2025-06-08",
    }
    result = CliRunner().invoke(
        app, ["ingest", "--source", "demo", "--as-of", "2025-06-10"], env=env
    )
    assert result.exit_code == 0, result.output
    return env


def test_demo_rows_carry_their_source(demo_warehouse):
    path = Path(demo_warehouse["BLOTTER_DUCKDB_PATH"])
    assert query(path, "select distinct _blotter_source from raw.incidents") == [
        ("127.0.0.1/d6g9-xbgu",)
    ]
    assert query(path, "select profile_name, source_id, start_date from raw.source_profile") == [
        ("buffalo", "127.0.0.1/d6g9-xbgu", date(2025, 6, 8))
    ]


@pytest.mark.parametrize(
    ("sample", "profile"), [(CHICAGO_API, "chicago"), (BUFFALO_2019, "buffalo_2019")]
)
def test_another_source_in_the_same_warehouse_is_refused(demo_warehouse, sample, profile):
    path = Path(demo_warehouse["BLOTTER_DUCKDB_PATH"])
    before = raw_tables(path)
    with running_replay(from_file=sample, profile=profile) as source:
        result = CliRunner().invoke(app, ["ingest", "--source", source], env=demo_warehouse)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "holds 127.0.0.1/d6g9-xbgu (profile buffalo)" in errors[0]
    assert f"{path}" in errors[0] and "point the target at a fresh warehouse" in errors[0]
    assert raw_tables(path) == before  # nothing fetched, nothing landed


def test_a_first_load_that_finds_nothing_stops_before_anything_lands(tmp_path):
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=AS_OF, start=date(2025, 6, 20)) as url:  # an empty portal
        with pytest.raises(NoIncidentsError) as error:
            ingest_duckdb(url, path, START, as_of=AS_OF, show_progress=False)
    message = str(error.value)
    assert message.startswith("no incidents between 2025-06-08 and 2025-06-10 at http://127.0.0")
    assert error.value.exit_code == 1 and "\n" not in message
    assert query(path, "select count(*) from information_schema.tables where table_schema = 'raw'")[
        0
    ] == (0,)
    # Nothing half-done is left behind: the next ingest from a real window works.
    with running_replay(as_of=AS_OF, start=START) as url:
        result = ingest_duckdb(url, path, START, as_of=AS_OF, show_progress=False)
    assert result.loaded > 0 and result.new_warehouse


def test_a_corrupt_warehouse_file_is_named(tmp_path):
    path = tmp_path / "blotter.duckdb"
    path.write_bytes(b"this is not a database" * 500)
    with running_replay(as_of=AS_OF, start=START) as url:
        with pytest.raises(IngestError) as error:
            ingest_duckdb(url, path, START, as_of=AS_OF, show_progress=False)
    message = str(error.value)
    assert "not a valid DuckDB database file" in message and str(path) in message
    assert "\n" not in message and not message.rstrip().endswith(":")


def test_a_lock_held_by_another_process_is_named(tmp_path):
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=AS_OF, start=START) as url:
        ingest_duckdb(url, path, START, as_of=AS_OF, show_progress=False)
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                "print('ok', flush=True); time.sleep(60)",
                str(path),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "ok"
            started = time.perf_counter()
            with pytest.raises(IngestError) as error:
                ingest_duckdb(url, path, START, as_of=AS_OF, show_progress=False)
        finally:
            holder.kill()
            holder.wait(timeout=10)
    message = str(error.value)
    assert "lock" in message.lower() and f"PID {holder.pid}" in message
    assert "\n" not in message and time.perf_counter() - started < 30


def test_a_legacy_cursor_is_adopted_only_by_its_own_source():
    ours, other = "127.0.0.1/d6g9-xbgu", "data.cityofchicago.org/ijzp-q8t2"
    state = {"last_cursor": "2025-06-10T12:00:00.000Z"}  # stored before sources were tracked
    assert adopt_legacy_cursor(state, ours) == "2025-06-10T12:00:00.000Z"
    assert state == {}  # adopted once: dlt.sources.incremental keeps it from now on
    state = {"cursors": {ours: "2025-06-11T00:00:00.000Z"}}
    assert adopt_legacy_cursor(dict(state), other) is None  # never starts from another's
    assert adopt_legacy_cursor(state, ours) == "2025-06-11T00:00:00.000Z"


def test_a_warehouse_landed_before_sources_were_recorded(caplog):
    legacy = Landing(has_table=True, has_incidents=True)  # raw.incidents, no source_profile
    with caplog.at_level(logging.WARNING, logger="blotter.ingestion"):
        check_landing(legacy, "127.0.0.1/d6g9-xbgu", "buffalo", START, full_refresh=False)
    assert "adopting it for 127.0.0.1/d6g9-xbgu" in caplog.text
    with pytest.raises(SourceMismatchError, match="before sources were recorded"):
        check_landing(legacy, "127.0.0.1/ijzp-q8t2", "chicago", START, full_refresh=False)
    recorded = Landing("127.0.0.1/d6g9-xbgu", "buffalo", START, has_table=True)
    with pytest.raises(StartDateError, match="--full-refresh"):
        check_landing(recorded, "127.0.0.1/d6g9-xbgu", "buffalo", AS_OF, full_refresh=False)
    check_landing(recorded, "127.0.0.1/d6g9-xbgu", "buffalo", AS_OF, full_refresh=True)


def test_ingest_without_a_destination_is_refused_before_anything_is_created(tmp_path):
    from ingestion.pipeline import ingest

    state = tmp_path / "dlt_pipelines" / "w"
    with pytest.raises(IngestError, match="needs a dlt destination") as error:
        ingest(None, state, START, as_of=AS_OF, show_progress=False)  # no engine-less default
    assert error.value.exit_code == 1 and not state.exists()
