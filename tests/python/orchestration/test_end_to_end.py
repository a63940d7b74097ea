"""End to end: real replay API, dlt, dbt, ml and publish on a DuckDB file, through the CLI.

Two days publish; then a duplicated case_number in ``raw.incidents`` makes the third run fail
on the error-severity source test, leave every published object unchanged, and notify; the
ledger (``blotter runs --json``) records all three outcomes. One module-scoped scenario.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest
from orch_helpers import Receiver, schema_digest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.publish import PUBLISHED_SCHEMAS

DAY1, DAY2, DAY3 = date(2024, 6, 28), date(2024, 6, 29), date(2024, 6, 30)
TOKEN = "e2e-app-token-9f8e7d"


@dataclass
class Scenario:
    path: Path
    results: list = field(default_factory=list)
    digests: list[dict[str, str]] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    webhook: list[dict] = field(default_factory=list)


def _run(runner: CliRunner, day: date, *extra: str):
    return runner.invoke(app, ["run", "--as-of", day.isoformat(), "--retries", "0", *extra])


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    base = tmp_path_factory.mktemp("e2e")
    path = base / "blotter.duckdb"
    receiver = Receiver()
    mp = pytest.MonkeyPatch()
    try:
        mp.chdir(base)  # no stray .env; dbt logs stay in the temp dir
        for key in [k for k in __import__("os").environ if k.startswith("BLOTTER_")]:
            mp.delenv(key)
        mp.setenv("BLOTTER_DUCKDB_PATH", str(path))
        # A short history keeps the test fast; the ML still sees 18 months.
        mp.setenv("BLOTTER_START_DATE", "2023-01-01")
        mp.setenv("BLOTTER_NOTIFY_WEBHOOK", receiver.url)
        # Keep dbt's artifacts away from the shared working tree (other builds run there).
        mp.setenv("DBT_TARGET_PATH", str(base / "target"))
        mp.setenv("DBT_LOG_PATH", str(base / "logs"))
        runner = CliRunner()
        sc = Scenario(path)
        sc.results.append(_run(runner, DAY1))
        sc.digests.append(schema_digest(path, PUBLISHED_SCHEMAS))
        # Day 2 as the scheduled job runs it: structured logs, a (secret) app token set.
        mp.setenv("BLOTTER_SOCRATA_APP_TOKEN", TOKEN)
        sc.results.append(_run(runner, DAY2, "--log-format", "json"))
        mp.delenv("BLOTTER_SOCRATA_APP_TOKEN")
        sc.digests.append(schema_digest(path, PUBLISHED_SCHEMAS))
        with duckdb.connect(str(path)) as con:
            # The merge on case_number broke: one incident landed twice.
            con.execute(
                "insert into raw.incidents select * replace ('dup' || _dlt_id as _dlt_id) "
                "from raw.incidents order by incident_datetime limit 1"
            )
        sc.results.append(_run(runner, DAY3, "--summary-file", str(base / "summary.json")))
        sc.digests.append(schema_digest(path, PUBLISHED_SCHEMAS))
        listed = runner.invoke(app, ["runs", "--json"])
        assert listed.exit_code == 0, listed.output
        sc.runs = json.loads(listed.stdout)
        sc.webhook = list(receiver.bodies)
        return sc
    finally:
        receiver.close()
        mp.undo()


def test_two_days_publish(scenario: Scenario) -> None:
    for result in scenario.results[:2]:
        assert result.exit_code == 0, result.output
    day1, day2 = scenario.digests[:2]
    assert "marts.fct_incident_counts" in day2 and "ml.forecasts" in day2
    assert day1["marts.fct_incident_counts"] != day2["marts.fct_incident_counts"]
    with duckdb.connect(str(scenario.path), read_only=True) as con:
        last = con.execute(
            "select max(period_start) from marts.fct_incident_counts where freq = 'daily'"
        ).fetchone()[0]
        assert last == DAY2
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert {"staging", "intermediate", "marts", "ml", "audit_marts"} <= schemas
        views = con.execute(
            "select count(*) from duckdb_views() where schema_name in ('staging', 'marts') "
            "and sql like '%audit\\_%' escape '\\'"
        ).fetchone()[0]
        assert views == 0  # published views read published tables


def test_json_logs_are_structured_and_redacted(scenario: Scenario) -> None:
    logs = scenario.results[1].stderr
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert lines, "no log lines"
    steps = {r["step"] for r in lines if r["msg"].startswith("step ")}
    assert steps == {"ingest", "build_warehouse", "forecast", "build_ml", "publish", "docs"}
    assert TOKEN not in logs and "secretpath" not in logs
    assert lines[-1]["msg"] == "run succeeded"


def test_duplicate_in_raw_fails_and_leaves_published_unchanged(scenario: Scenario) -> None:
    failed = scenario.results[2]
    assert failed.exit_code == 1, failed.output
    assert "case_number" in failed.output  # the failing test is named
    assert scenario.digests[2] == scenario.digests[1]


def test_ledger_records_both_outcomes(scenario: Scenario) -> None:
    runs = scenario.runs
    assert [r["status"] for r in runs] == ["failed", "succeeded", "succeeded"]
    assert [r["as_of"] for r in runs] == [DAY3.isoformat(), DAY2.isoformat(), DAY1.isoformat()]
    failed, ok = runs[0], runs[1]
    assert failed["steps"]["build_warehouse"]["status"] == "failed"
    assert failed["steps"]["publish"]["status"] == "skipped"
    assert any("case_number" in t for t in failed["failing_tests"])
    assert failed["tests_failed"] >= 1
    assert all(s["status"] == "succeeded" for s in ok["steps"].values())
    assert ok["rows_loaded"] > 0 and ok["tests_passed"] > 0 and ok["tests_failed"] == 0


def test_webhook_got_success_and_failure(scenario: Scenario) -> None:
    statuses = [b["blotter"]["status"] for b in scenario.webhook]
    assert statuses == ["succeeded", "succeeded", "failed"]
    assert "case_number" in scenario.webhook[2]["text"]
    assert scenario.webhook[2]["blotter"]["run_id"] == scenario.runs[0]["run_id"]
