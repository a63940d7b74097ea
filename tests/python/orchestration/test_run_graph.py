"""The step graph, ledger, webhook and ``blotter runs`` on a real DuckDB file and HTTP receiver.

The steps here are small stand-ins for ingest/dbt/ml so retries and stop-on-failure can be driven
deterministically; the real steps run in ``test_end_to_end.py``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import orchestration.commands.run  # noqa: F401  (registers `run` and `runs`)
from engines.base import PublishBlocked
from orchestration import ledger
from orchestration.app import app
from orchestration.run import RunContext, TransientError, execute, is_transient, new_run_id
from orchestration.settings import Settings


def _ctx(tmp_path: Path, webhook: str | None = None, day: date = date(2024, 3, 5)) -> RunContext:
    settings = Settings(duckdb_path=tmp_path / "w.duckdb", notify_webhook=webhook)
    return RunContext(run_id=new_run_id(day), as_of=day, target="dev", settings=settings)


def _ingest(ctx: RunContext) -> dict:
    return {"rows_fetched": 120, "rows_loaded": 118, "rows_rejected": 2, "load_id": "1.2"}


def _build_ok(ctx: RunContext) -> dict:
    return {"tests_passed": 41, "tests_failed": 0, "failing_tests": []}


def _build_failing(ctx: RunContext) -> dict:
    raise PublishBlocked(
        ["source_unique_raw_incidents_case_number"],
        outputs={
            "tests_passed": 40,
            "tests_failed": 1,
            "failing_tests": ["source_unique_raw_incidents_case_number"],
        },
    )


def test_success_and_failure_are_recorded_and_notified(tmp_path: Path, receiver) -> None:
    ok = execute(_ctx(tmp_path, receiver.url), [("ingest", _ingest), ("build", _build_ok)])
    assert ok.succeeded
    later = date(2024, 3, 6)
    published: list[str] = []
    bad = execute(
        _ctx(tmp_path, receiver.url, later),
        [
            ("ingest", _ingest),
            ("build", _build_failing),
            ("publish", lambda ctx: published.append("x")),
        ],
        backoff_seconds=0,
    )
    assert not bad.succeeded
    assert published == []  # a permanent failure stops downstream steps

    runs = ledger.recent(tmp_path / "w.duckdb")
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
    failed = runs[0]
    assert failed["as_of"] == "2024-03-06"
    assert failed["steps"]["publish"] == {"status": "skipped"}
    assert failed["steps"]["build"]["attempts"] == 1  # failed tests are not retried
    assert failed["failing_tests"] == ["source_unique_raw_incidents_case_number"]
    assert (failed["tests_passed"], failed["tests_failed"]) == (40, 1)
    assert "source_unique_raw_incidents_case_number" in failed["error"]
    assert (runs[1]["rows_fetched"], runs[1]["rows_loaded"], runs[1]["rows_rejected"]) == (
        120,
        118,
        2,
    )
    assert runs[1]["ended_at"] >= runs[1]["started_at"]

    assert len(receiver.bodies) == 2
    success, failure = receiver.bodies
    assert success["content_type"] == "application/json"
    assert success["blotter"]["status"] == "succeeded"
    assert "succeeded" in success["text"] and "fetched 120" in success["text"]
    assert failure["blotter"]["status"] == "failed"
    assert failure["blotter"]["run_id"] == failed["run_id"]
    assert "failed step: build" in failure["text"]
    assert "source_unique_raw_incidents_case_number" in failure["text"]
    assert failure["blocks"][0]["type"] == "header"


def test_transient_failures_are_retried(tmp_path: Path) -> None:
    calls: list[int] = []

    def flaky(ctx: RunContext) -> dict:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("connection reset by peer")
        return {}

    summary = execute(_ctx(tmp_path), [("ingest", flaky)], retries=2, backoff_seconds=0)
    assert summary.succeeded and summary.record.steps["ingest"]["attempts"] == 3

    calls.clear()
    summary = execute(
        _ctx(tmp_path), [("ingest", flaky), ("build", _build_ok)], retries=1, backoff_seconds=0
    )
    assert not summary.succeeded
    assert summary.record.steps["ingest"] | {"seconds": 0} == {
        "status": "failed",
        "attempts": 2,
        "seconds": 0,
        "transient": True,
        "error": "connection reset by peer",
    }
    assert summary.record.steps["build"] == {"status": "skipped"}


def test_is_transient_follows_the_cause_chain() -> None:
    try:
        try:
            raise TimeoutError("read timed out")
        except TimeoutError as inner:
            raise RuntimeError("pipeline step extract failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
    assert is_transient(TransientError("IO Error: Could not set lock on file"))
    assert not is_transient(ValueError("column case_number is not unique"))


def test_webhook_down_does_not_break_the_run(tmp_path: Path, receiver) -> None:
    receiver.status = 500
    assert execute(_ctx(tmp_path, receiver.url), [("ingest", _ingest)]).succeeded
    assert len(receiver.bodies) == 1
    receiver.close()  # nothing listening any more: connection refused
    assert execute(_ctx(tmp_path, receiver.url), [("ingest", _ingest)]).succeeded


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in list(__import__("os").environ):
        if key.startswith("BLOTTER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    return tmp_path


def test_blotter_runs_json_lists_runs(cli_env: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["runs", "--json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []

    execute(_ctx(cli_env), [("ingest", _ingest)])
    execute(_ctx(cli_env), [("build", _build_failing)])
    result = runner.invoke(app, ["runs", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
    assert all(r["run_id"] for r in runs)

    table = runner.invoke(app, ["runs", "--limit", "1"])
    assert table.exit_code == 0 and "failed" in table.stdout


def test_blotter_run_rejects_bad_options(cli_env: Path) -> None:
    runner = CliRunner()
    for args, message in (
        (["run", "--as-of", "yesterday"], "not a date"),
        (["run", "--target", "staging"], "not one of"),
        (["run", "--log-format", "xml"], "not one of"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert message in result.output


def test_interrupted_run_is_recorded_as_failed(tmp_path: Path) -> None:
    def interrupted(ctx: RunContext) -> dict:
        raise KeyboardInterrupt

    ctx = _ctx(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        execute(ctx, [("ingest", _ingest), ("build", interrupted), ("publish", _build_ok)])
    (run,) = ledger.recent(tmp_path / "w.duckdb")
    assert run["run_id"] == ctx.run_id and run["status"] == "failed"
    assert run["error"] == "build: interrupted" and run["ended_at"]


def test_no_docs_leaves_out_only_the_docs_step() -> None:
    """``blotter run --no-docs``'s graph: the daily graph up to and including publish."""
    from orchestration.steps import default_steps

    every = [name for name, _ in default_steps()]
    assert every == ["ingest", "build_warehouse", "forecast", "build_ml", "publish", "docs"]
    assert [name for name, _ in default_steps(docs=False)] == every[:-1]
