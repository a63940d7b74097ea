"""The operator's warehouse for ``test_operator_scenarios.py``: its keys, its CLI and its kills.

:class:`Life` is one DuckDB file with the replay API and the CLI run on it (in this process, or
as a subprocess held or killed through ``launcher.py``); :func:`kill_at` SIGKILLs a command at a
named point. The scenarios themselves and their order are in the test module.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import Result
from held_run import HeldRun
from invariants import Expected, violations
from orch_helpers import schema_digest
from typer.testing import CliRunner

from engines.base import PUBLISHED_SCHEMAS
from orchestration import ledger
from orchestration.cli import app
from orchestration.lock import is_held, lock_path

START = "2024-05-27"
D1 = date(2024, 6, 10)  # the as-of of every command (one dbt parse for the whole module)
KEY_A = f"trust-key-a-{secrets.token_hex(12)}"
KEY_B = f"trust-key-b-{secrets.token_hex(12)}"
RUN_D1 = ("run", "--as-of", D1.isoformat(), "--retries", "0")
# (command, step it is killed in), in order; the rekey ones run with key B.
KILL_CHAIN = (
    (RUN_D1, "ingest"),
    (("forecast",), "forecast"),
    (("rekey",), "publish"),
)
KEY_A_KILLS = KILL_CHAIN[:2]
KEY_B_KILLS = KILL_CHAIN[2:]


@dataclass
class Life:
    """The warehouse the scenarios share, and what the CLI printed along the way."""

    base: Path
    path: Path
    env: pytest.MonkeyPatch
    keys: list[str]
    runner: CliRunner = field(default_factory=CliRunner)
    outputs: dict[str, str] = field(default_factory=dict)
    launched: list[HeldRun] = field(default_factory=list)

    def use_key(self, key: str) -> None:
        """Rotate BLOTTER_PSEUDONYM_KEY for every later command."""
        self.env.setenv("BLOTTER_PSEUDONYM_KEY", key)
        self.keys.append(key)

    def cli(self, name: str, *args: str, **env: str) -> Result:
        """``blotter ARGS`` in this process (``env``: extra environment for this call)."""
        result = self.runner.invoke(app, list(args), env=env or None)
        self.outputs[name] = result.output
        return result

    def launch(self, name: str, *args: str, hold_at: str, **env: str) -> HeldRun:
        """``blotter ARGS`` as its own process, held at ``hold_at`` (see launcher.py)."""
        held = HeldRun.start(name, *args, hold_at=hold_at, env={**os.environ, **env}, cwd=self.base)
        self.launched.append(held)
        return held

    def expected(self, key: str, as_of: date) -> Expected:
        """The invariants' expectations for what ``key`` published at ``as_of``."""
        base = self.base
        return Expected(
            warehouse=self.path,
            key=key,
            as_of=as_of,
            secrets=tuple(self.keys),
            artefacts=(
                base / "target",
                base / "logs",
                base / "dlt_pipelines",
                base / "held",  # the launched processes' output
                lock_path(self.path),
                *base.glob("*.json"),  # run summaries
            ),
            outputs=dict(self.outputs),
        )

    def digest(self) -> dict[str, str]:
        """Content hash of every published table and view ({} before the first run)."""
        if not self.path.exists():
            return {}
        return schema_digest(self.path, PUBLISHED_SCHEMAS)

    def runs(self) -> list[dict[str, Any]]:
        """The run ledger, newest first."""
        return ledger.recent(self.path, 200)

    def run_of(self, pid: int) -> dict[str, Any]:
        """The ledger row of the run process ``pid``."""
        rows = [r for r in self.runs() if r["pid"] == pid]
        assert len(rows) == 1, f"{len(rows)} ledger rows for pid {pid}"
        return rows[0]

    def incident_ids(self) -> set[str]:
        """The published incident ids."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            rows = con.execute("select incident_id from marts.fct_incidents").fetchall()
        return {r[0] for r in rows}


@dataclass
class Kill:
    """One command SIGKILLed at a hold point, and what it left."""

    command: str
    point: str
    pid: int
    exit_code: int
    before: dict[str, str]
    after: dict[str, str]
    lock_held: bool
    row: dict[str, Any]
    violations: list[str]


def kill_at(life: Life, point: str, *args: str, key: str = KEY_A) -> Kill:
    """Start ``blotter ARGS``, wait until it is inside ``point``, SIGKILL it.

    The invariants are checked right after the kill (``key`` built what is published), but for
    the dead command's ``running`` row and audit schemas: the next command clears both.
    """
    before = life.digest()
    held = life.launch(f"{args[0]}_{point}", *args, hold_at=point)
    held.wait_reached()
    code = held.kill()
    return Kill(
        args[0],
        point,
        held.pid,
        code,
        before,
        life.digest(),
        is_held(life.path),
        life.run_of(held.pid),
        violations(life.expected(key, D1), settled=False),
    )


def _one_line(result: Result) -> str:
    """The one ``error:`` line, which ends stderr (log lines, e.g. a warning, may precede it)."""
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.output
    return errors[0]
