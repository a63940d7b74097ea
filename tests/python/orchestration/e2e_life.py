"""The warehouse of ``test_end_to_end.py``: its keys and days, what it records, and how it is read.

:class:`Scenario` holds every command's result; the small readers (incidents, served rows, the
docs catalog) and :func:`kill_and_rerun` (SIGKILL a scheduled run mid-way, rerun it beside a
second run that must be refused) are shared by the scenario fixture and its checks.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from orch_helpers import (
    blotter_process,
    wait_for,
    wait_for_line,
)
from typer.testing import CliRunner

from engines.base import PUBLISHED_SCHEMAS
from orchestration.cli import app
from orchestration.lock import Holder, lock_path

START, DAY1, DAY2, DAY3 = "2024-05-01", "2024-06-10", "2024-06-11", "2024-06-12"
TOKEN = "e2e-app-token-9f8e7d"
KEY_A = f"key-a-{secrets.token_hex(12)}"
KEY_B = f"key-b-{secrets.token_hex(12)}"
HOOK_AUTH = "ops:hook-pw-9931"
# What a reader may see: published schemas, the landing (and dlt's merge staging), the
# ledger, the key, DuckDB's default schema (and dev_*, which `blotter transform` built).
VISIBLE = {*PUBLISHED_SCHEMAS, "raw", "raw_staging", "ops", "restricted", "main"}


@dataclass
class Scenario:
    base: Path
    path: Path
    results: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)
    webhook: list[dict] = field(default_factory=list)


@dataclass
class Finished:
    """A CLI process's outcome, shaped like typer's Result."""

    exit_code: int
    stderr: str
    pid: int

    @property
    def output(self) -> str:
        return self.stderr


def incidents(path: Path) -> dict[str, Any]:
    """Published incidents vs raw: rows, distinct ids, raw case numbers, the ids themselves."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows, ids = con.execute(
            "select count(*), count(distinct incident_id) from marts.fct_incidents"
        ).fetchone()
        raw = con.execute("select count(distinct case_number) from raw.incidents").fetchone()[0]
        sample = {
            r[0] for r in con.execute("select incident_id from marts.fct_incidents").fetchall()
        }
    return {"rows": rows, "ids": ids, "raw": raw, "sample": sample}


def served(path: Path) -> tuple[set[str], set[str]]:
    """(forecast runs fct_forecasts serves, champion run ids in the published registry)."""
    with duckdb.connect(str(path), read_only=True) as con:
        served = con.execute("select distinct forecast_run_id from marts.fct_forecasts").fetchall()
        champs = con.execute(
            "select run_id from ml.model_runs where status = 'champion'"
        ).fetchall()
    return {r[0] for r in served}, {r[0] for r in champs}


def catalog_text(path: Path) -> str:
    """Every SQL text, comment, ledger value and fingerprint the warehouse holds."""
    queries = (
        "select sql, comment from duckdb_views()",
        "select sql, comment from duckdb_tables()",
        "select comment from duckdb_columns()",
        "select * from ops.run_ledger",
        "select * from restricted.pseudonym_fingerprints",
    )
    with duckdb.connect(str(path), read_only=True) as con:
        return " ".join(str(v) for q in queries for row in con.execute(q).fetchall() for v in row)


def kill_and_rerun(sc: Scenario, runner: CliRunner) -> None:
    """Day 2 as the scheduler runs it: killed mid-run, then rerun next to a second attempt."""
    env = dict(os.environ, BLOTTER_SOCRATA_APP_TOKEN=TOKEN)
    args = ("run", "--as-of", DAY2, "--retries", "0", "--log-format", "json")
    doomed = blotter_process(*args, env=env, cwd=sc.base)
    # Killed in the middle of the dbt build (the ledger already says so when this is logged).
    wait_for_line(doomed, '"step build_warehouse started"')
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate()
    sc.facts["killed_pid"] = doomed.pid
    # Before anything reconciles it, `blotter runs` already shows the dead run as abandoned.
    sc.facts["runs_after_kill"] = json.loads(runner.invoke(app, ["runs", "--json"]).stdout)

    rerun = blotter_process(*args, "--summary-file", "s2.json", env=env, cwd=sc.base)
    wait_for(
        lambda: (h := Holder.read(lock_path(sc.path))) is not None and h.pid == rerun.pid,
        what="the rerun to take the lock",
    )
    second = blotter_process(*args, env=env, cwd=sc.base)
    _, second_err = second.communicate(timeout=120)
    sc.results["second_run"] = Finished(second.returncode, second_err, second.pid)
    _, rerun_err = rerun.communicate(timeout=900)
    sc.results["day2"] = Finished(rerun.returncode, rerun_err, rerun.pid)


def expect_ok(sc: Scenario, name: str) -> None:
    """The scenario's command ``name`` exited 0 (its output's tail otherwise)."""
    result = sc.results[name]
    assert result.exit_code == 0, f"{name}: {result.output[-3000:]}"


def expect_refused(sc: Scenario, name: str, needle: str) -> str:
    """``name`` was refused: exit 2 and one stderr line holding ``needle`` (returned)."""
    result = sc.results[name]
    assert result.exit_code == 2, f"{name}: {result.output[-3000:]}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    return lines[0]
