"""Issue 12 item 8: errors name their root cause (dlt and dbt wrap it) and what to do."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.errors import describe, exit_code, is_transient

HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
    "time.sleep(60)"
)


def corrupt_warehouse(path: Path) -> Path:
    """A file where the warehouse should be, full of garbage (a torn copy, a wrong file)."""
    path.write_bytes(bytes(range(256)) * 2048)
    return path


def hold_warehouse(path: Path) -> subprocess.Popen:
    """Another process with the DuckDB file open for writing (a DuckDB shell, a notebook)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_dlt_failure_on_a_corrupt_warehouse_names_the_corruption(tmp_path: Path) -> None:
    from duckdb_ingest import ingest_duckdb

    from replay.server import running_replay

    path = corrupt_warehouse(tmp_path / "blotter.duckdb")
    day = date(2024, 6, 10)
    with running_replay(as_of=day, start=date(2024, 6, 8)) as url:
        with pytest.raises(Exception) as caught:
            ingest_duckdb(url, path, date(2024, 6, 8), as_of=day, show_progress=False)
    # dlt's own message stops at "with exception:"; the cause is three layers down, and
    # ingestion's one-line error already carries it.
    line = describe(caught.value)
    assert "not a valid DuckDB database file" in line
    assert "restore it from a backup" in line and "BLOTTER_DUCKDB_PATH" in line
    assert "\n" not in line and not line.endswith(":")


def test_a_lock_conflict_names_the_holder_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    holder = hold_warehouse(path)
    try:
        with pytest.raises(duckdb.IOException) as caught:
            duckdb.connect(str(path))
    finally:
        holder.kill()
    wrapped = RuntimeError("Pipeline execution failed at step=load with exception:")
    wrapped.__cause__ = caught.value
    line = describe(wrapped)
    assert f"pid {holder.pid}" in line and "close it" in line
    assert is_transient(wrapped)


def test_operator_mistakes_exit_2_by_name_others_1() -> None:
    # CONTRACTS.md E: ingestion raises these (subclasses of IngestError).
    source_mismatch = type("SourceMismatchError", (RuntimeError,), {})
    start_date = type("StartDateError", (RuntimeError,), {})
    no_incidents = type("NoIncidentsError", (RuntimeError,), {})
    for exc, code in (
        (source_mismatch("warehouse holds another source"), 2),
        (start_date("start date after as-of"), 2),
        (no_incidents("no incidents between X and Y at SOURCE"), 1),
        (ValueError("boom"), 1),
    ):
        outer = RuntimeError("step ingest failed")
        outer.__cause__ = exc
        assert exit_code(outer) == code, exc
        assert not is_transient(outer) or code == 1


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("BLOTTER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(tmp_path / "blotter.duckdb"))
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-06-01")
    monkeypatch.setenv("BLOTTER_NOTIFY_WEBHOOK", receiver.url)
    return tmp_path


def _run():
    from typer.testing import CliRunner

    from orchestration.cli import app

    return CliRunner().invoke(app, ["run", "--as-of", "2024-06-10", "--retries", "0"])


def test_run_on_a_corrupt_warehouse_says_so_and_still_notifies(cli_env: Path, receiver) -> None:
    corrupt_warehouse(cli_env / "blotter.duckdb")
    result = _run()
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "not a valid DuckDB database file" in line and "restore it from a backup" in line
    assert "not in the run ledger" in line
    (body,) = receiver.bodies
    assert body["blotter"]["status"] == "failed"
    assert "not a valid DuckDB database file" in body["blotter"]["error"]


def test_run_on_a_warehouse_another_program_holds(cli_env: Path, receiver, monkeypatch) -> None:
    from engines.duckdb import connect

    monkeypatch.setattr(connect, "LOCK_WAIT_SECONDS", 0.5)
    path = cli_env / "blotter.duckdb"
    duckdb.connect(str(path)).close()
    holder = hold_warehouse(path)
    try:
        result = _run()
    finally:
        holder.kill()
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert f"pid {holder.pid}" in line and "close it" in line and str(path) in line
    (body,) = receiver.bodies
    assert f"pid {holder.pid}" in body["blotter"]["error"]
