"""The ledger waits out a reader's lock (e.g. the dashboard) instead of failing the run."""

import subprocess
import sys
import time

import duckdb
import pytest

from engines.duckdb.connect import connect
from engines.errors import WarehouseBusy

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); print('locked', flush=True); time.sleep(float(sys.argv[2]))"  # noqa: E501


def _hold_read_lock(path, seconds):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_ledger_waits_for_a_short_read_lock(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    reader = _hold_read_lock(path, 1.5)
    started = time.monotonic()
    con = connect(path)
    con.close()
    reader.wait()
    assert time.monotonic() - started >= 0.5  # it really had to wait


def test_ledger_gives_up_on_a_lock_that_outlasts_the_wait(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    reader = _hold_read_lock(path, 5)
    try:
        with pytest.raises(WarehouseBusy, match="held by another process") as raised:
            connect(path, wait_seconds=0.5)
        assert "lock" in str(raised.value.__cause__).lower()
    finally:
        reader.kill()
