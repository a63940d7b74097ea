"""Operator scenarios end to end on one warehouse (issue 12, "Done when").

The real CLI (typer's CliRunner in this process; a subprocess started through ``launcher.py``
where a command must be killed or held), the replay API, dlt, dbt, ml and publish, on one DuckDB
file holding two weeks of the synthetic city. Every command uses the same as-of, so dbt parses
the project once and later builds reuse the partial parse. The scenarios follow each other on
that file as they would in an operator's life, and each ends with the same invariants
(``invariants.py``):

1. the first run (key A) is held in its docs step, after its publish committed: a second run
   started meanwhile exits 2 at once naming the first; then the first is SIGKILLed and a
   complete new state is published, the run found dead;
2. ``ingest --full-refresh`` under every fault class of the replay API (two refreshes, faults
   combined): raw never loses a key, every fetched record is loaded or rejected, and each fault
   fired (each fault alone is in ``tests/python/ingestion/test_faults.py``); as the first
   command to take the run lock after the kill, it reconciles the dead run to ``abandoned``;
3. future as-of: ``run`` and ``ingest`` with tomorrow's as-of exit 2: nothing lands, nothing is
   published, nothing is recorded;
4. kill -9 inside the steps of the daily graph whose half-done state differs, each followed by
   the next command as the rerun: ``run`` in ingest (dlt mid-extract), ``forecast`` in forecast
   (``audit_ml`` half written; the step function ``run`` calls), ``rekey`` inside the publish
   transaction (the step ``run`` calls, all schemas): nothing published changes. A kill in
   build_warehouse is in ``tests/python/orchestration/test_end_to_end.py``; kills in build_ml
   and in rekey's build_warehouse (dbt into audit schemas again) were left out for time;
5. key rotation: a run with key B is refused (exit 2, naming ``blotter rekey``), the rekey
   killed above is rerun and rebuilds every id with key B at the published as-of; every killed
   command is then recorded ``abandoned`` in the step it died in;
6. an earlier start date: ``run`` refuses it naming ``--full-refresh``; ``ingest
   --full-refresh`` lands the older incidents (with ``:updated_at`` far older than dbt's
   incremental window) and the next ``run`` publishes every one of them. Before the load-id
   window it published none of them, with exit 0.
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
    KILL_CHAIN,
    RUN_D1,
    START,
    Kill,
    Life,
    _one_line,
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


def test_a_second_run_exits_2_at_once_naming_the_first(first_run: FirstRun) -> None:
    second, holder = first_run.second, first_run.holder
    assert second.exit_code == 2, second.output
    assert first_run.second_seconds < 10
    assert holder is not None and holder.pid == first_run.kill.pid
    line = _one_line(second)
    assert f"another run ({holder.run_id}, pid {holder.pid} on " in line
    assert f"started {holder.started_at})" in line and "is in progress" in line


def test_a_kill_after_publish_leaves_a_complete_new_state(first_run: FirstRun) -> None:
    kill = first_run.kill
    assert kill.exit_code == -9 and not kill.lock_held
    assert "marts.fct_incidents" in kill.after
    assert kill.violations == []
    assert kill.row["status"] == "running"
    assert kill.row["steps"]["publish"]["status"] == "succeeded"
    assert kill.row["steps"]["docs"]["status"] == "running"
    # `blotter runs` already shows the dead run as abandoned, before any run reconciles it.
    assert first_run.shown["status"] == "abandoned"


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


# What each fault leaves in the ingest summary: proof that it fired.
FIRED = {
    "http429": lambda s: s["retries"] > 0,
    "http5xx": lambda s: s["retries"] > 0,
    "slow": lambda s: s["seconds"] >= 0.5,
    "malformed": lambda s: s["rejected"] > 0,
    "duplicates": lambda s: s["duplicates"] > 0,
    "drift_new_column": lambda s: any("new source column" in d for d in s["drift"]),
    "drift_type_change": lambda s: any("changed type" in d for d in s["drift"]),
    "future_dated": lambda s: s["quarantined_future"] > 0,
}


def test_the_fault_groups_cover_every_fault_class() -> None:
    assert sorted(f for group in FAULT_GROUPS for f in group) == sorted(FAULT_NAMES)
    assert set(FIRED) == set(FAULT_NAMES)


@pytest.mark.parametrize("faults", FAULT_GROUPS, ids="+".join)
def test_full_refresh_under_faults_keeps_every_raw_key(
    full_refreshes: dict[tuple[str, ...], FullRefresh], faults: tuple[str, ...]
) -> None:
    refresh = full_refreshes[faults]
    assert refresh.result.exit_code == 0, refresh.result.output
    s = refresh.summary
    assert s["full_refresh"] and s["fetched"] > 300
    assert s["fetched"] == s["loaded"] + s["rejected"]
    assert [f for f in faults if not FIRED[f](s)] == [], s
    assert not refresh.lost, f"raw lost {len(refresh.lost)} key(s) it had"
    assert refresh.violations == []


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


def test_a_future_as_of_is_refused_and_lands_nothing(future_as_of: FutureAsOf) -> None:
    for result in (future_as_of.run, future_as_of.ingest):
        assert result.exit_code == 2, result.output
        line = _one_line(result)
        assert f"--as-of {future_as_of.day.isoformat()} is in the future" in line
    assert "_dlt_loads" in future_as_of.before[0]
    assert future_as_of.after == future_as_of.before  # raw, published, ledger


def test_invariants_after_future_as_of(future_as_of: FutureAsOf) -> None:
    assert future_as_of.violations == []


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


def _kills(key_a_kills: list[Kill], key_rotation: KeyRotation) -> dict[str, Kill]:
    return {f"{k.command}@{k.point}": k for k in [*key_a_kills, *key_rotation.kills]}


@pytest.mark.parametrize("name", [f"{args[0]}@{point}" for args, point in KILL_CHAIN])
def test_a_kill_inside_a_step_changes_nothing_published(
    key_a_kills: list[Kill], key_rotation: KeyRotation, name: str
) -> None:
    kill = _kills(key_a_kills, key_rotation)[name]
    assert kill.exit_code == -9 and not kill.lock_held
    assert kill.before and kill.after == kill.before, "published tables changed"
    assert kill.violations == []
    steps = kill.row["steps"]
    assert kill.row["status"] == "running" and steps[kill.point]["status"] == "running"
    done = list(steps)[: list(steps).index(kill.point)]
    assert all(steps[step]["status"] == "succeeded" for step in done), steps


def test_a_changed_key_is_refused_naming_rekey(key_rotation: KeyRotation) -> None:
    assert key_rotation.refused.exit_code == 2, key_rotation.refused.output
    line = _one_line(key_rotation.refused)
    assert "BLOTTER_PSEUDONYM_KEY changed" in line and "`blotter rekey`" in line
    assert key_rotation.digest_refused == key_rotation.digest_before


def test_rekey_rebuilds_every_id_at_the_published_as_of(key_rotation: KeyRotation) -> None:
    """The rekey's data cutoff is the as-of of the published data (run 1's, which was killed
    after its publish committed), not today."""
    assert key_rotation.rekey.exit_code == 0, key_rotation.rekey.output
    assert key_rotation.rekey_row["status"] == "succeeded"
    assert key_rotation.rekey_row["as_of"] == D1.isoformat()
    ids_a, ids_b = key_rotation.ids_a, key_rotation.ids_b
    assert len(ids_b) == len(ids_a) > 300 and not ids_a & ids_b


def test_invariants_after_key_rotation(key_rotation: KeyRotation) -> None:
    assert key_rotation.violations == []


def test_every_killed_command_is_recorded_abandoned_in_its_step(
    first_run: FirstRun, key_a_kills: list[Kill], key_rotation: KeyRotation
) -> None:
    kills = [first_run.kill, *key_a_kills, *key_rotation.kills]
    assert len(kills) == 1 + len(KILL_CHAIN)
    for kill in kills:
        row = next(r for r in key_rotation.runs if r["pid"] == kill.pid)
        assert row["command"] == kill.command and row["status"] == "abandoned", row
        assert row["ended_at"] and f"process {kill.pid} on" in row["error"], row["error"]
        assert f"during step {kill.point}" in row["error"], row["error"]
        assert row["steps"][kill.point]["status"] == "abandoned"


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


def test_an_earlier_start_date_publishes_the_older_incidents(earlier_start: EarlierStart) -> None:
    assert earlier_start.refused.exit_code == 2, earlier_start.refused.output
    # `blotter run` has no --full-refresh: the one line names the command that has it.
    last = earlier_start.refused.stderr.strip().splitlines()[-1]
    assert "differs from" in last and "`blotter ingest --full-refresh`" in last, last
    assert earlier_start.refresh.exit_code == 0, earlier_start.refresh.output
    assert earlier_start.run.exit_code == 0, earlier_start.run.output
    assert earlier_start.first_published < date.fromisoformat(START)
    # Invariant 1: one published incident per raw record, the older ones included.
    assert earlier_start.violations == []
