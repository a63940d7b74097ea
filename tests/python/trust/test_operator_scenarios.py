"""Operator scenarios end to end on one warehouse (issue 12, "Done when").

The real CLI (typer's CliRunner in this process; a subprocess started through ``launcher.py``
where a command must be killed or held), the replay API, dlt, dbt, ml and publish, on one DuckDB
file holding two weeks of the synthetic city. Every command uses the same as-of, so dbt parses
the project once and later builds reuse the partial parse. The scenarios follow each other on
that file as they would in an operator's life, and each ends with the same invariants
(``invariants.py``). The scenarios themselves (what the operator does) are the fixtures of
``operator_scenarios.py``; this module holds what is checked after each:

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

from datetime import date

import pytest
from operator_life import D1, KILL_CHAIN, START, Kill, _one_line
from operator_scenarios import (
    FAULT_GROUPS,
    EarlierStart,
    FirstRun,
    FullRefresh,
    FutureAsOf,
    KeyRotation,
)

from replay.faults import FAULT_NAMES

# ---------------------------------------------------------------- 1. kill after publish, 2 runs


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


def test_a_future_as_of_is_refused_and_lands_nothing(future_as_of: FutureAsOf) -> None:
    for result in (future_as_of.run, future_as_of.ingest):
        assert result.exit_code == 2, result.output
        line = _one_line(result)
        assert f"--as-of {future_as_of.day.isoformat()} is in the future" in line
    assert "_dlt_loads" in future_as_of.before[0]
    assert future_as_of.after == future_as_of.before  # raw, published, ledger


def test_invariants_after_future_as_of(future_as_of: FutureAsOf) -> None:
    assert future_as_of.violations == []


# ---------------------------------------------------------------- 5. key rotation


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
