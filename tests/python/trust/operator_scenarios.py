"""The operator's life the trust scenarios check: one DuckDB file, one command after another.

Each fixture is one scenario of ``test_operator_scenarios.py`` (see its docstring) and depends
on the one before, so they run in the order an operator's day would; module-scoped, they run
once for that test module. The checks are in the test module; the warehouse, the CLI runner and
the kill helpers are in ``operator_life.py``, the invariants in ``invariants.py``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import Result
from invariants import raw_keys, violations
from operator_life import (
    D1,
    KEY_A,
    KEY_A_KILLS,
    KEY_B,
    KEY_B_KILLS,
    RUN_D1,
    START,
    Kill,
    Life,
    kill_at,
)

from ingestion.profiles import load_profile
from orchestration.dates import today_in
from orchestration.lock import Holder, is_held, lock_path
from replay.faults import FAULT_NAMES


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    """A fresh warehouse directory and the environment every command of the module sees."""
    base = tmp_path_factory.mktemp("trust")
    env = pytest.MonkeyPatch()
    env.chdir(base)  # no stray .env
    for name in [k for k in os.environ if k.startswith("BLOTTER_")]:
        env.delenv(name)
    env.setenv("BLOTTER_DUCKDB_PATH", str(base / "blotter.duckdb"))
    env.setenv("BLOTTER_START_DATE", START)
    # dbt's artefacts and log stay in the temp dir, where the leak check reads them.
    env.setenv("DBT_TARGET_PATH", str(base / "target"))
    env.setenv("DBT_LOG_PATH", str(base / "logs"))
    env.setenv("DBT_LOG_LEVEL_FILE", "debug")  # every SQL text dbt ran, for the leak check
    env.setenv("BLOTTER_PSEUDONYM_KEY", KEY_A)
    life = Life(base, base / "blotter.duckdb", env, [KEY_A])
    try:
        yield life
    finally:
        for held in life.launched:
            if held.proc.poll() is None:
                held.proc.kill()
                held.proc.wait()
        env.undo()


# ---------------------------------------------------------------- 1. kill after publish, 2 runs


@dataclass
class FirstRun:
    kill: Kill
    holder: Holder | None
    second: Result
    second_seconds: float
    shown: dict[str, Any]


@pytest.fixture(scope="module")
def first_run(life: Life) -> FirstRun:
    """Key A's first run, held in docs (its publish committed) while a second run starts."""
    held = life.launch("run_docs", *RUN_D1, hold_at="docs")
    held.wait_reached()
    holder = Holder.read(lock_path(life.path))
    started = time.monotonic()
    second = life.cli("run_concurrent", *RUN_D1)
    second_seconds = time.monotonic() - started
    code = held.kill()
    kill = Kill(
        "run",
        "docs",
        held.pid,
        code,
        {},
        life.digest(),
        is_held(life.path),
        life.run_of(held.pid),
        violations(life.expected(KEY_A, D1), settled=False),
    )
    listed = life.cli("runs_after_kill", "runs", "--json")
    shown = next(r for r in json.loads(listed.stdout) if r["pid"] == kill.pid)
    return FirstRun(kill, holder, second, second_seconds, shown)


# ---------------------------------------------------------------- 2. full refresh under faults


@dataclass
class FullRefresh:
    result: Result
    summary: dict[str, Any]
    lost: set[str]
    violations: list[str]


# Faults combined in one full refresh each. Duplicates go alone: combined, the repeated rows are
# the first page's malformed ones, rejected as invalid before they could count as duplicates.
FAULT_GROUPS = (tuple(f for f in FAULT_NAMES if f != "duplicates"), ("duplicates",))


@pytest.fixture(scope="module")
def full_refreshes(life: Life, first_run: FirstRun) -> dict[tuple[str, ...], FullRefresh]:
    """``blotter ingest --full-refresh`` at the published as-of, per group of fault classes."""
    out = {}
    for faults in FAULT_GROUPS:
        keys_before = raw_keys(life.path)
        result = life.cli(
            f"full_refresh_{'_'.join(faults)}",
            *("ingest", "--full-refresh", "--as-of", D1.isoformat(), "--json"),
            BLOTTER_DEMO_FAULTS=",".join(faults),
        )
        summary = json.loads(result.stdout.splitlines()[-1]) if result.exit_code == 0 else {}
        out[faults] = FullRefresh(
            result,
            summary,
            keys_before - raw_keys(life.path),
            violations(life.expected(KEY_A, D1)),
        )
    return out


# ---------------------------------------------------------------- 3. future as-of


def _raw_tables(path: Path) -> dict[str, int]:
    """Row count of every table in ``raw`` (incidents, rejections, dlt's loads and state)."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw'"
            ).fetchall()
        ]
        return {n: con.execute(f'select count(*) from raw."{n}"').fetchone()[0] for n in names}


@dataclass
class FutureAsOf:
    day: date
    run: Result
    ingest: Result
    before: tuple[dict[str, int], dict[str, str], int]
    after: tuple[dict[str, int], dict[str, str], int]
    violations: list[str]


@pytest.fixture(scope="module")
def future_as_of(life: Life, full_refreshes: dict[tuple[str, ...], FullRefresh]) -> FutureAsOf:
    """Tomorrow where the incidents happen: the first day that is refused."""
    tomorrow = today_in(load_profile("demo").timezone) + timedelta(days=1)

    def state() -> tuple[dict[str, int], dict[str, str], int]:
        return _raw_tables(life.path), life.digest(), len(life.runs())

    before = state()
    run = life.cli("run_future", "run", "--as-of", tomorrow.isoformat(), "--retries", "0")
    ingest = life.cli("ingest_future", "ingest", "--as-of", tomorrow.isoformat())
    after = state()
    return FutureAsOf(tomorrow, run, ingest, before, after, violations(life.expected(KEY_A, D1)))


# ---------------------------------------------------------------- 4. kill -9 in each step


@pytest.fixture(scope="module")
def key_a_kills(life: Life, future_as_of: FutureAsOf) -> list[Kill]:
    """Key A: ``run`` killed in ingest, ``forecast`` in forecast and in build_ml."""
    return [kill_at(life, point, *args) for args, point in KEY_A_KILLS]


# ---------------------------------------------------------------- 5. key rotation


@dataclass
class KeyRotation:
    refused: Result
    digest_before: dict[str, str]
    digest_refused: dict[str, str]
    kills: list[Kill]
    ids_a: set[str]
    ids_b: set[str]
    rekey: Result
    rekey_row: dict[str, Any]
    runs: list[dict[str, Any]]
    violations: list[str]


@pytest.fixture(scope="module")
def key_rotation(life: Life, key_a_kills: list[Kill]) -> KeyRotation:
    """Key B: the run is refused; ``rekey`` is killed twice, then rerun to the end."""
    digest_before, ids_a = life.digest(), life.incident_ids()
    life.use_key(KEY_B)
    refused = life.cli("run_key_b", *RUN_D1)
    digest_refused = life.digest()
    kills = [kill_at(life, point, *args, key=KEY_A) for args, point in KEY_B_KILLS]
    rekey = life.cli("rekey", "rekey", "--summary-file", "rekey.json")
    runs = life.runs()
    rows = [r for r in runs if r["command"] == "rekey" and r["status"] != "abandoned"]
    return KeyRotation(
        refused,
        digest_before,
        digest_refused,
        kills,
        ids_a,
        life.incident_ids(),
        rekey,
        rows[0] if rows else {},
        runs,
        violations(life.expected(KEY_B, D1)),
    )


# ---------------------------------------------------------------- 6. an earlier start date


@dataclass
class EarlierStart:
    start: date
    refused: Result
    refresh: Result
    run: Result
    first_published: date
    violations: list[str]


@pytest.fixture(scope="module")
def earlier_start(life: Life, key_rotation: KeyRotation) -> EarlierStart:
    """The operator moves BLOTTER_START_DATE two weeks back and follows the refusal's advice."""
    start = date.fromisoformat(START) - timedelta(days=14)
    env = {"BLOTTER_START_DATE": start.isoformat()}
    refused = life.cli("run_earlier_start", *RUN_D1, **env)
    refresh = life.cli(
        "ingest_earlier_start", "ingest", "--full-refresh", "--as-of", D1.isoformat(), **env
    )
    run = life.cli("run_after_earlier_start", *RUN_D1, **env)
    with duckdb.connect(str(life.path), read_only=True) as con:
        [(first,)] = con.execute("select min(occurred_date) from marts.fct_incidents").fetchall()
    return EarlierStart(start, refused, refresh, run, first, violations(life.expected(KEY_B, D1)))
