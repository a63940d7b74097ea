"""Issue 12, the small pieces: dates, the warehouse path, the webhook, the key fingerprint,
the ledger's abandoned runs and notes, and what ``blotter runs`` and the dashboard show."""

from __future__ import annotations

import base64
import io
import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from engines.duckdb.key_store import DuckDBKeyStore
from orchestration import ledger, lock, notify, pseudonym
from orchestration.cli import app
from orchestration.dates import resolve_as_of, today_in
from orchestration.errors import OperatorError
from orchestration.logs import configure_logging
from orchestration.run import RunContext, execute, new_run_id
from orchestration.settings import Settings
from orchestration.warehouse_file import check


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in [k for k in __import__("os").environ if k.startswith("BLOTTER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    return tmp_path


# ---- item 3: as-of in the dataset's timezone


def test_today_is_the_dataset_timezone_s_day() -> None:
    # 02:30 UTC on 1 March is still 28 February in Buffalo.
    now = datetime(2024, 3, 1, 2, 30, tzinfo=UTC)
    assert today_in("America/New_York", now) == date(2024, 2, 29)
    settings = Settings(start_date=date(2024, 1, 1))
    assert resolve_as_of(None, settings, now) == date(2024, 2, 29)
    with pytest.raises(OperatorError, match=r"2024-03-01 is in the future \(today is 2024-02-29"):
        resolve_as_of(date(2024, 3, 1), settings, now)


def test_future_as_of_is_refused_before_anything_runs(cli_env: Path) -> None:
    future = date.today().replace(year=date.today().year + 1).isoformat()
    for command in (["run"], ["ingest"]):
        result = CliRunner().invoke(app, [*command, "--as-of", future])
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "is in the future" in lines[0], result.stderr
    assert not (cli_env / "w.duckdb").exists()


def test_start_date_after_as_of_is_refused(cli_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-06-01")
    result = CliRunner().invoke(app, ["run", "--as-of", "2024-05-01"])
    assert result.exit_code == 2, result.output
    assert "BLOTTER_START_DATE 2024-06-01 is after the as-of 2024-05-01" in result.stderr
    assert not (cli_env / "w.duckdb").exists()


# ---- item 10: the warehouse path


def test_a_missing_directory_is_refused_unless_asked(cli_env: Path, monkeypatch) -> None:
    typo = cli_env / "dta" / "blotter.duckdb"
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(typo))
    for command in (["run", "--as-of", "2024-06-10"], ["ingest", "--as-of", "2024-06-10"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert f"directory {typo.parent} does not exist" in result.stderr
        assert "--create-warehouse" in result.stderr
    assert not typo.parent.exists()
    assert check(typo, create_warehouse=True).new and typo.parent.is_dir()


def test_a_new_warehouse_is_announced_and_recorded(cli_env: Path, monkeypatch) -> None:
    fresh = cli_env / "new" / "blotter.duckdb"
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(fresh))
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-06-01")
    # Nothing listens on port 9: the ingest fails fast, after the run was recorded.
    monkeypatch.setenv("BLOTTER_SOURCE", "http://127.0.0.1:9/resource/d6g9-xbgu.json")
    result = CliRunner().invoke(
        app, ["run", "--as-of", "2024-06-10", "--retries", "0", "--create-warehouse"]
    )
    assert result.exit_code == 1, result.output
    assert "creating a new warehouse at" in result.stderr and "warning" in result.stderr
    (run,) = ledger.recent(fresh)
    assert run["notes"] == [f"created new warehouse {fresh}"]
    assert run["status"] == "failed" and run["steps"]["ingest"]["status"] == "failed"


# ---- item 9: webhook credentials


def test_webhook_credentials_become_basic_auth_and_are_never_logged(receiver) -> None:
    url = receiver.url.replace("http://", "http://hook-user:s3cr3t-pw@")
    stream = io.StringIO()
    configure_logging("text", Settings(notify_webhook=url).secrets(), stream=stream)
    assert notify.send(url, {"text": "hello"})
    (body,) = receiver.bodies
    expected = base64.b64encode(b"hook-user:s3cr3t-pw").decode()
    assert body["authorization"] == f"Basic {expected}"
    receiver.status = 500
    assert not notify.send(url, {"text": "again"})
    receiver.close()
    assert not notify.send(url, {"text": "nobody listens"})
    logged = stream.getvalue()
    assert "webhook" in logged and "s3cr3t-pw" not in logged and "secretpath" not in logged
    logging.getLogger("blotter").handlers.clear()


# ---- items 1+2: the key fingerprint


def test_fingerprint_detects_a_changed_key_and_never_holds_it(tmp_path: Path) -> None:
    store = DuckDBKeyStore(tmp_path / "w.duckdb")
    key = "first-key-8c1f"
    pseudonym.check(store, key, "", "blotter rekey")  # a new warehouse: nothing to compare
    store.write_key(key)
    store.record(pseudonym.PUBLISHED, pseudonym.Fingerprint.of(key).stored())
    pseudonym.check(store, key, "", "blotter rekey")
    with pytest.raises(pseudonym.KeyChanged, match="run `blotter rekey`"):
        pseudonym.check(store, "second-key-77aa", "", "blotter rekey")
    pseudonym.check(store, "second-key-77aa", "dev_", "x")  # another scope, nothing built
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema marts; create table marts.fct_incidents (i int)")
        con.execute("delete from restricted.pseudonym_fingerprints")
        stored = con.execute("select * from restricted.pseudonym_key").fetchall()
    assert stored == [(key,)]
    # Marts without a recorded fingerprint (an older Blotter built them): refuse, name rekey.
    with pytest.raises(pseudonym.KeyChanged, match="without a recorded"):
        pseudonym.check(store, key, "", "blotter rekey")
    a, b = pseudonym.Fingerprint.of(key), pseudonym.Fingerprint.of(key)
    assert a.salt != b.salt and a.matches(key) and b.matches(key) and key not in str(a)


# ---- items 6+7, issue 13 item 5: the ledger


def _ctx(path: Path, day: date = date(2024, 3, 5)) -> RunContext:
    settings = Settings(duckdb_path=path)
    return RunContext(run_id=new_run_id(day), as_of=day, target="dev", settings=settings)


def test_drift_lines_are_recorded_and_shown(cli_env: Path) -> None:
    drift = ["source drift: new source column zip_code (text)"]
    execute(_ctx(cli_env / "w.duckdb"), [("ingest", lambda ctx: {"notes": drift})])
    (run,) = ledger.recent(cli_env / "w.duckdb")
    assert run["notes"] == drift
    shown = CliRunner().invoke(app, ["runs"])
    assert shown.exit_code == 0 and "new source column zip_code (text)" in shown.stdout
    listed = json.loads(CliRunner().invoke(app, ["runs", "--json"]).stdout)
    assert listed[0]["notes"] == drift


def test_a_running_row_without_a_lock_is_abandoned(cli_env: Path) -> None:
    path = cli_env / "w.duckdb"
    dead = ledger.RunRecord(run_id="r-dead", as_of=date(2024, 3, 5), target="dev", pid=4242)
    ledger.record(path, dead)
    # Before any run reconciles it, `blotter runs` already shows it for what it is.
    shown = json.loads(CliRunner().invoke(app, ["runs", "--json"]).stdout)
    assert shown[0]["status"] == "abandoned" and "process 4242" in shown[0]["error"]
    with lock.acquire(path, "r-live", "run"):
        assert lock.is_held(path)
        live = json.loads(CliRunner().invoke(app, ["runs", "--json"]).stdout)
        assert live[0]["status"] == "running"  # the lock is held: it may be alive
        assert ledger.reconcile(path) == ["r-dead"]
    (run,) = ledger.recent(path)
    assert run["status"] == "abandoned" and run["ended_at"]
    assert "process 4242 on" in run["error"] and "ended without finishing (killed?)" in run["error"]


def test_the_dashboard_never_calls_an_abandoned_run_in_progress(tmp_path: Path) -> None:
    from dashboard import status
    from dashboard.overview import _without_dead_runs
    from engines.duckdb.reader import DuckDBReader

    start = pd.Timestamp("2026-03-02 06:00", tz="UTC")
    runs = pd.DataFrame(
        [
            {"run_id": "r2", "status": "running", "error": None, "started_at": start},
            {"run_id": "r1", "status": "succeeded", "error": None, "started_at": start},
        ]
    ).assign(ended_at=[None, start])
    shown = _without_dead_runs(runs, DuckDBReader(tmp_path / "w.duckdb"))
    banner = status.banner(shown, date(2026, 3, 1), datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert "in progress" not in banner.message
    assert banner.kind == "error" and "Last run was abandoned: r2" in banner.message
    recorded = runs.assign(status=["abandoned", "succeeded"])
    banner = status.banner(recorded, date(2026, 3, 1), datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert "in progress" not in banner.message and "abandoned" in banner.message


def test_secrets_from_dotenv_are_redacted_too(tmp_path: Path) -> None:
    """Item 2: the key (and the token) are redacted wherever the setting came from."""
    from orchestration.settings import load_settings

    dotenv = tmp_path / ".env"
    dotenv.write_text("BLOTTER_PSEUDONYM_KEY=dotenv-key-5521\nBLOTTER_SOCRATA_APP_TOKEN=tok-8812\n")
    settings = load_settings(env={}, dotenv=dotenv)
    stream = io.StringIO()
    log = configure_logging("json", settings.secrets(), stream=stream)
    log.warning("key dotenv-key-5521 and token tok-8812", extra={"detail": "dotenv-key-5521"})
    logging.getLogger("blotter").handlers.clear()
    assert "dotenv-key-5521" not in stream.getvalue() and "tok-8812" not in stream.getvalue()
    assert "***" in stream.getvalue()
