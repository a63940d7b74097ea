"""Run states on real warehouse files: killed and live runs, a writer's lock, missing tables.

Issue 12.6: a run killed before it recorded its end stays ``running`` in ``ops.run_ledger``
until the next command reconciles it; the page must show it abandoned at once (nobody holds the
run lock), and "in progress" only while a live process holds that lock.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dashboard import status
from dashboard.area import load_area
from dashboard.overview import load_overview
from engines.duckdb.reader import DuckDBReader
from engines.reader import WarehouseBusy, WarehouseUnavailable

REPO = Path(__file__).resolve().parents[3]
# A run as `blotter run` starts one: the run lock taken, a `running` row in the ledger.
RUN = """
import sys, time
from datetime import date
from pathlib import Path
from orchestration import ledger, lock
db = Path(sys.argv[1])
with lock.acquire(db, "run-killed", "run"):
    ledger.record(db, ledger.RunRecord(run_id="run-killed", as_of=date.today(), target="dev"))
    print("running", flush=True)
    time.sleep(600)
"""


def test_a_killed_run_shows_abandoned_never_in_progress(healthy_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "blotter.duckdb"
    shutil.copy(healthy_db, db)
    run = subprocess.Popen(
        [sys.executable, "-c", RUN, str(db)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout.readline().strip() == "running"
        live = load_overview(DuckDBReader(db))
        assert live.runs["status"].iloc[0] == "running"
        banner = status.banner(live.runs, live.last_data_day)
        assert banner.kind == "info" and "is in progress" in banner.message, banner.message
    finally:
        run.send_signal(signal.SIGKILL)  # kill -9: no chance to record its end
        run.wait(timeout=30)
        run.stdout.close()

    dead = load_overview(DuckDBReader(db))
    killed = dead.runs.iloc[0]
    assert (killed["run_id"], killed["status"]) == ("run-killed", "abandoned")
    assert "killed" in killed["error"]
    banner = status.banner(dead.runs, dead.last_data_day)
    assert banner.kind == "error" and "in progress" not in banner.message
    assert banner.message.startswith("Last run was abandoned: run-killed started at ")
    assert "Showing what the last successful run published" in banner.message
    # The page only reads: the ledger row stays for the next command to reconcile.
    with duckdb.connect(str(db), read_only=True) as con:
        (stored,) = con.execute(
            "select status from ops.run_ledger where run_id = 'run-killed'"
        ).fetchone()
    assert stored == "running"


def test_missing_tables_become_notes_not_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    reader = DuckDBReader(empty)
    overview = load_overview(reader)
    view = load_area(reader, "monthly", "city", "Somewhere", None)
    notes = " | ".join(overview.notes + view.notes)
    for table in (
        "dim_geography",
        "fct_forecast_accuracy",
        "fct_incident_counts",
        "fct_incident_areas",
        "fct_pipeline_runs",
        "dim_forecast_models",
        "fct_forecasts",
        "fct_incidents",
        "fct_forecast_performance",
    ):
        assert table in notes
    assert overview.levels == [] and view.actuals.empty and view.forecasts.empty
    with pytest.raises(WarehouseUnavailable, match="no warehouse at .* run `blotter run`"):
        load_overview(DuckDBReader(tmp_path / "nope.duckdb"))


def test_a_writer_makes_reads_fail_fast_and_reads_never_hold_the_lock(
    healthy_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(healthy_db.read_bytes())
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match="being written by a run"):
            load_overview(DuckDBReader(db))
        assert time.monotonic() - started < 2  # gives up quickly, never queues behind the run
    finally:
        writer.communicate("", timeout=30)
    load_overview(DuckDBReader(db))
    # After a read the file is free again: a run can open it for writing at once.
    duckdb.connect(str(db)).close()
