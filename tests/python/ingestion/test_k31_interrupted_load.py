"""A run killed after a load's insert committed, before dlt marked it done (k31, trust).

dlt re-runs such a job when it loads the pending package again, so the next ingest used to put
every row of that job in raw a second time (and then fail on its accounting, and the run after
that passed with the copies left in raw). Each test kills a real ingest subprocess at the point
(a real replay server, a real DuckDB file), then checks the next runs end with raw holding each
row once and the same records as a run that was never interrupted, or stop, every time.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from duckdb_ingest import ingest_duckdb
from ingest_helpers import accounting_holds, query

from engines.base import landing_state_dir
from ingestion.errors import IngestError
from ingestion.pipeline import PIPELINE_NAME
from replay.server import running_replay

DAY = date(2025, 6, 10)
START = date(2025, 5, 20)
REPLAY_START = date(2025, 5, 1)
REPO = Path(__file__).resolve().parents[3]
KILLER = Path(__file__).with_name("k31_kill_at.py")
RAW_TABLES = (
    "incidents",
    "incidents_rejected",
    "source_profile",
    "source_geographies",
    "source_incident_types",
    "source_parent_incident_types",
)


def kill_at(url: str, path: Path, as_of: date, point: str) -> None:
    """Run an ingest in a subprocess that SIGKILLs itself at ``point``."""
    command = [sys.executable, str(KILLER), url, str(path), str(START), str(as_of), point]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-2000:]


def pending_rows(path: Path) -> dict[str, dict[str, int]]:
    """Rows per table in the parquet files of each pending load package (read from disk)."""
    packages = landing_state_dir(path) / PIPELINE_NAME / "load" / "normalized"
    found: dict[str, dict[str, int]] = {}
    for package in sorted(packages.iterdir()) if packages.exists() else ():
        if not package.is_dir():  # a kill can leave dlt's empty scratch files here
            continue
        rows = found.setdefault(package.name, {})
        for file in package.glob("*_jobs/*.parquet"):
            table = file.name.split(".")[0]
            rows[table] = rows.get(table, 0) + pq.ParquetFile(file).metadata.num_rows
    return found


def records(path: Path) -> set[tuple]:
    return set(query(path, "select case_number, socrata_updated_at from raw.incidents"))


def assert_each_row_once(path: Path) -> None:
    for table in RAW_TABLES:
        rows, ids = query(path, f"select count(*), count(distinct _dlt_id) from raw.{table}")[0]
        assert rows == ids, table
    loads, distinct = query(path, "select count(*), count(distinct load_id) from raw._dlt_loads")[0]
    assert loads == distinct


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[date, set[tuple]]:
    """The records raw holds after a backfill and a next-day run that nothing interrupted."""
    path = tmp_path_factory.mktemp("clean") / "blotter.duckdb"
    seen = {}
    for as_of in (DAY, DAY + timedelta(days=1)):
        with running_replay(as_of=as_of, start=REPLAY_START, faults=("duplicates",)) as url:
            ingest_duckdb(url, path, START, as_of=as_of, show_progress=False)
        seen[as_of] = records(path)
    return seen


@pytest.mark.parametrize(
    ("as_of", "table"),
    [
        (DAY, "incidents"),  # the backfill appends: its rows were inserted twice
        (DAY, "source_geographies"),  # a replaced profile table: truncated once, filled twice
        (DAY + timedelta(days=1), "incidents_rejected"),  # rejections append in every run
        (DAY + timedelta(days=1), "incidents"),  # a merge: its staging copies collapse on the key
    ],
)
def test_the_next_run_finishes_the_interrupted_load_with_each_row_once(
    tmp_path, uninterrupted, as_of, table
):
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=as_of, start=REPLAY_START, faults=("duplicates",)) as url:
        if as_of > DAY:
            ingest_duckdb(url, path, START, as_of=DAY, show_progress=False)
        kill_at(url, path, as_of, f"inserted:{table}")
        ((load_id, files),) = pending_rows(path).items()
        assert files[table] > 0
        result = ingest_duckdb(url, path, START, as_of=as_of, show_progress=False)
    # The interrupted load was finished first (named in the result), then this run's own.
    assert len(result.recovered) == 1 and load_id in result.recovered[0]
    assert result.load_id != load_id
    accounting_holds(path, result)
    assert_each_row_once(path)
    # Its rejections are kept (appended) once; the other tables' rows were replaced since.
    query_rejected = "select count(*) from raw.incidents_rejected where _dlt_load_id = ?"
    assert query(path, query_rejected, load_id)[0][0] == files["incidents_rejected"]
    assert records(path) == uninterrupted[as_of]
    assert pending_rows(path) == {}


def test_a_kill_after_the_load_finished_but_before_the_copies_went_is_repaired_next(
    tmp_path, uninterrupted
):
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=DAY, start=REPLAY_START, faults=("duplicates",)) as url:
        kill_at(url, path, DAY, "inserted:incidents")
        ((load_id, files),) = pending_rows(path).items()
        kill_at(url, path, DAY, "repair")  # dlt finished the package: no longer pending
        assert pending_rows(path) == {}
        per_load = "select count(*) from raw.incidents where _dlt_load_id = ?"
        # The copies are in raw now: only the marker knows.
        assert query(path, per_load, load_id)[0][0] == 2 * files["incidents"]
        result = ingest_duckdb(url, path, START, as_of=DAY, show_progress=False)
    assert len(result.recovered) == 1 and load_id in result.recovered[0]
    accounting_holds(path, result)
    assert_each_row_once(path)
    assert records(path) == uninterrupted[DAY]


def test_a_kill_after_dlt_recorded_the_load_leaves_one_record_of_it(tmp_path, uninterrupted):
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=DAY, start=REPLAY_START, faults=("duplicates",)) as url:
        kill_at(url, path, DAY, "recorded")
        ((load_id, _),) = pending_rows(path).items()  # every job done, the package not filed
        assert query(path, "select count(*) from raw._dlt_loads")[0][0] == 1
        result = ingest_duckdb(url, path, START, as_of=DAY, show_progress=False)
    assert len(result.recovered) == 1 and load_id in result.recovered[0]
    accounting_holds(path, result)
    assert_each_row_once(path)  # dlt recorded the finished load again: one record is kept
    assert records(path) == uninterrupted[DAY]


def test_copies_that_cannot_be_removed_stop_every_run_until_they_are(tmp_path, monkeypatch):
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=DAY, start=REPLAY_START, faults=("duplicates",)) as url:
        kill_at(url, path, DAY, "inserted:incidents")
        ((load_id, _),) = pending_rows(path).items()
        # As on a destination where equal rows cannot be told apart to delete one of them.
        monkeypatch.setattr("ingestion.recovery.can_remove_copies", lambda pipeline: False)
        for _ in range(2):  # the second run must refuse as well: nothing passes silently
            with pytest.raises(IngestError, match=rf"raw\.\w+ holds .* of load {load_id}"):
                ingest_duckdb(url, path, START, as_of=DAY, show_progress=False)
        monkeypatch.undo()
        result = ingest_duckdb(url, path, START, as_of=DAY, show_progress=False)
    assert len(result.recovered) == 1 and load_id in result.recovered[0]
    accounting_holds(path, result)
    assert_each_row_once(path)
