"""Issue 12 item 4: ``blotter run`` maps ingestion's errors (CONTRACTS.md E) to exit codes.

A wrong start date or another source is the operator's to fix (exit 2); a first load that finds
nothing stops before dbt with ingestion's line (exit 1), instead of a pile of failed tests.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

import orchestration.steps
from orchestration import ledger
from orchestration.cli import app


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("BLOTTER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    return tmp_path


@pytest.fixture
def empty_portal() -> Iterator[str]:
    """A SODA endpoint that has no incidents at all (a real HTTP server answering ``[]``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            body = json.dumps([]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/resource/d6g9-xbgu.json"
    server.shutdown()
    server.server_close()


def _one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert lines, result.output
    return lines[-1]


@pytest.mark.parametrize(("name", "code"), [("StartDateError", 2), ("NoIncidentsError", 1)])
def test_ingest_errors_map_to_exit_codes_and_stop_before_dbt(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: int
) -> None:
    from ingestion.pipeline import IngestError

    error = type(name, (IngestError,), {})  # the contract's names; ingestion defines them

    def ingest(ctx):  # noqa: ANN001, ANN202
        raise error(f"{name} says what to do")

    monkeypatch.setattr(orchestration.steps, "step_ingest", ingest)
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-06-01")
    result = CliRunner().invoke(app, ["run", "--as-of", "2024-06-10", "--retries", "0"])
    assert result.exit_code == code, result.output
    assert f"{name} says what to do" in _one_line(result)
    (run,) = ledger.recent(cli_env / "w.duckdb")
    assert run["steps"]["build_warehouse"] == {"status": "skipped"}


def test_a_first_load_that_finds_nothing_stops_before_dbt(cli_env: Path, monkeypatch, empty_portal):
    """Passes once ingestion raises NoIncidentsError (CONTRACTS.md E)."""
    monkeypatch.setenv("BLOTTER_SOURCE", empty_portal)
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-06-01")
    result = CliRunner().invoke(app, ["run", "--as-of", "2024-06-10", "--retries", "0"])
    assert result.exit_code == 1, result.output
    line = _one_line(result)
    assert "no incidents between" in line and "127.0.0.1" in line, line
    (run,) = ledger.recent(cli_env / "w.duckdb")
    assert run["steps"]["build_warehouse"] == {"status": "skipped"}


def test_a_changed_start_date_is_refused(cli_env: Path, monkeypatch) -> None:
    """Passes once ingestion raises StartDateError for a start date that differs from the
    warehouse's backfill (CONTRACTS.md E)."""
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-06-01")
    landed = CliRunner().invoke(app, ["ingest", "--as-of", "2024-06-10"])
    assert landed.exit_code == 0, landed.output
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-05-01")
    result = CliRunner().invoke(app, ["run", "--as-of", "2024-06-10", "--retries", "0"])
    assert result.exit_code == 2, result.output
    assert "2024-05-01" in _one_line(result)
    (run,) = ledger.recent(cli_env / "w.duckdb")
    assert run["steps"]["build_warehouse"] == {"status": "skipped"}


def test_ingest_holds_the_lock_and_writes_the_key_table(cli_env: Path, monkeypatch) -> None:
    """Items 2 and 7: a plain `dbt build` after an ingest finds the key; ingest waits its turn."""
    import duckdb

    from orchestration.lock import acquire

    monkeypatch.setenv("BLOTTER_START_DATE", "2024-06-08")
    monkeypatch.setenv("BLOTTER_PSEUDONYM_KEY", "ingest-key-4417")
    path = cli_env / "w.duckdb"
    with acquire(path, "r-busy", "run"):
        busy = CliRunner().invoke(app, ["ingest", "--as-of", "2024-06-10"])
    assert busy.exit_code == 2, busy.output
    assert "another run (r-busy, pid" in _one_line(busy)
    assert not path.exists()
    landed = CliRunner().invoke(app, ["ingest", "--as-of", "2024-06-10"])
    assert landed.exit_code == 0, landed.output
    assert "ingest-key-4417" not in landed.output
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select * from restricted.pseudonym_key").fetchall() == [
            ("ingest-key-4417",)
        ]
