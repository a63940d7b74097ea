"""The daily build skips dbt's unit tests only on code that already passed them here (u41).

Six daily `blotter run`s, in process, on one DuckDB warehouse and a copy of the project, real dbt:
day 1 runs the unit tests and records their digest; day 2, on unchanged code, skips them and
still runs every data test; day 3 (a model's SQL edited) and day 4 (a unit test's fixture
edited) run them again; day 5 breaks a unit test's expectation: publication stops and nothing
is recorded, so day 6, on the same code, runs them again. Between days 2 and 3 the digest is
checked against another dbt version string (``orchestration.unit_test_memo``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_parse_reuse import _copy_project
from typer.testing import CliRunner

from engines import local_ledger
from orchestration import dbt_invoke, unit_test_memo
from orchestration.cli import app
from orchestration.dbt_runner import DbtRunResult, NodeResult
from orchestration.run import RunContext, new_run_id
from orchestration.settings import Settings
from replay.server import running_replay

START = date(2024, 5, 1)
DAYS = [date(2024, 6, d) for d in range(9, 15)]
MODEL = Path("models/marts/crime/fct_incident_counts.sql")
UNIT_TESTS = Path("models/marts/crime/_crime__unit_tests.yml")
KEYED = "test_fct_incidents_pseudonymises_with_the_restricted_key"
OLD_KEY, NEW_KEY = "unit-test-key", "u41-fixture-key"
NOTE = re.compile(
    r"unit tests: (\d+) (skipped|ran and passed|ran, \d+ did not pass)\b.*; (\d+) data tests ran$"
)


@dataclass
class Days:
    path: Path
    summaries: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    passes: list[int] = field(default_factory=list)  # rows of ops.unit_test_passes after each
    version_plans: dict[str, unit_test_memo.Memo] = field(default_factory=dict)


def _edit(project: Path, day: int) -> None:
    """The code change landing before ``day`` (index into DAYS)."""
    if day == 2:  # a model's SQL: one comment line
        model = project / MODEL
        model.write_text(model.read_text() + "\n{# u41: an edit that changes no row #}\n")
    elif day in (3, 4):
        tests = project / UNIT_TESTS
        text = tests.read_text()
        head, tail = text.split(f"- name: {KEYED}", 1)
        if day == 3:  # the fixture's key and the expectation that follows from it
            old_id = hashlib.sha256(f"{OLD_KEY}:A".encode()).hexdigest()
            new_id = hashlib.sha256(f"{NEW_KEY}:A".encode()).hexdigest()
            given = f"{{pseudonym_key: {OLD_KEY}}}"  # the row, not the description
            assert given in tail and old_id in tail
            tail = tail.replace(given, f"{{pseudonym_key: {NEW_KEY}}}", 1)
            tail = tail.replace(old_id, new_id, 1)
        else:  # an expectation no code meets
            new_id = hashlib.sha256(f"{NEW_KEY}:A".encode()).hexdigest()
            assert new_id in tail
            tail = tail.replace(new_id, "0" * 64, 1)
        tests.write_text(f"{head}- name: {KEYED}{tail}")


def _version_plans(path: Path) -> dict[str, unit_test_memo.Memo]:
    """The daily build's plan on the day-2 state, with the installed versions and with another
    dbt version string."""
    ctx = RunContext(
        run_id=new_run_id(DAYS[1]),
        as_of=DAYS[1],
        target="ci",
        settings=Settings(duckdb_path=path, start_date=START),
    )
    manifest = dbt_invoke.project(ctx)
    run_parts = unit_test_memo.unit_test_parts(ctx, (), [dbt_invoke.FORECASTING], False)
    found = unit_test_memo.versions(manifest.metadata.adapter_type)
    other = {**found, "dbt-core": found["dbt-core"] + ".post1"}
    return {
        "installed": unit_test_memo.plan(ctx.ledger, manifest, run_parts),
        "other dbt": unit_test_memo.plan(ctx.ledger, manifest, run_parts, found=other),
    }


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Days:
    base = tmp_path_factory.mktemp("u41_memo")
    project = base / "project"
    _copy_project(project)
    sc = Days(base / "warehouse.duckdb")
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(dbt_invoke, "PROJECT_DIR", project)
        mp.setattr(dbt_invoke, "SAVED_PARSES", base / "saved_parses")
        mp.chdir(base)
        for name in [k for k in os.environ if k.startswith("BLOTTER_")]:
            mp.delenv(name)
        mp.setenv("BLOTTER_TARGET", "ci")
        mp.setenv("BLOTTER_START_DATE", START.isoformat())
        mp.setenv("BLOTTER_DUCKDB_PATH", str(sc.path))
        mp.setenv("DBT_TARGET_PATH", str(base / "target"))
        for i, day in enumerate(DAYS):
            _edit(project, i)
            summary = base / f"summary-{i}.json"
            with running_replay(as_of=day, start=START) as url:
                mp.setenv("BLOTTER_SOURCE", url)
                result = CliRunner().invoke(
                    app,
                    [
                        *("run", "--as-of", day.isoformat(), "--no-docs", "--retries", "0"),
                        *(("--create-warehouse",) if i == 0 else ()),
                        *("--summary-file", str(summary)),
                    ],
                )
            sc.outputs.append(result.output)
            sc.summaries.append(json.loads(summary.read_text()) if summary.is_file() else {})
            with duckdb.connect(str(sc.path), read_only=True) as con:
                sc.passes.append(
                    con.execute("select count(*) from ops.unit_test_passes").fetchone()[0]
                )
            if i == 1:
                sc.version_plans = _version_plans(sc.path)
    finally:
        mp.undo()
    return sc


def _notes(summary: dict[str, Any]) -> list[tuple[int, str]]:
    """``(unit tests, what happened)`` of each build step's note, in step order."""
    return [(int(m.group(1)), m.group(2)) for m in _matches(summary)]


def _data_tests(summary: dict[str, Any]) -> list[int]:
    """Data tests each build step ran, in step order."""
    return [int(m.group(3)) for m in _matches(summary)]


def _matches(summary: dict[str, Any]) -> list[re.Match[str]]:
    return [m for note in summary.get("notes", []) if (m := NOTE.match(note))]


def test_unchanged_code_skips_the_unit_tests_and_runs_every_data_test(days: Days) -> None:
    first, second = days.summaries[0], days.summaries[1]
    for summary, output in zip(days.summaries[:2], days.outputs[:2], strict=True):
        assert summary.get("status") == "succeeded", output[-3000:]
    ran = _notes(first)
    # The warehouse build and the forecasting build each ran theirs and recorded the pass.
    assert [what for _, what in ran] == ["ran and passed"] * 2, first["notes"]
    assert all(count > 0 for count, _ in ran) and days.passes[0] == 2
    # Day 2: the same code: none ran, and the ledger says how many were skipped and why.
    assert _notes(second) == [(count, "skipped") for count, _ in ran], second["notes"]
    assert any("passed them on this code, dbt and adapter" in n for n in second["notes"])
    # Every data test still ran, and none failed.
    assert _data_tests(second) == _data_tests(first) and min(_data_tests(first)) > 0
    assert second["tests_failed"] == 0
    assert days.passes[1] == 2  # nothing new recorded


def test_a_changed_model_or_unit_test_fixture_runs_them_again(days: Days) -> None:
    for i in (2, 3):  # the model's SQL edited, then a unit test's fixture
        summary = days.summaries[i]
        assert summary.get("status") == "succeeded", days.outputs[i][-3000:]
        assert [what for _, what in _notes(summary)] == ["ran and passed"] * 2, summary["notes"]
        assert _data_tests(summary) == _data_tests(days.summaries[0])
    assert days.passes[2:4] == [4, 6]  # each new code's pass recorded once per build step


def test_a_failing_unit_test_stops_publication_and_is_not_recorded(days: Days) -> None:
    for i in (4, 5):  # the broken expectation, and the next day on the same code
        summary = days.summaries[i]
        assert summary.get("status") == "failed", days.outputs[i][-3000:]
        assert KEYED in summary["failing_tests"]
        assert summary["steps"]["publish"]["status"] == "skipped"
        # The failed one, and those dbt skipped after it.
        ((count, what),) = _notes(summary)
        assert count == summary_count(days) and what.startswith("ran, "), summary["notes"]
        assert what.endswith(" did not pass") and what != "ran, 0 did not pass"
    assert days.passes[4:] == [6, 6]  # nothing recorded: day 6 ran them again


def summary_count(days: Days) -> int:
    """Unit tests of the warehouse build (day 1's count)."""
    return _notes(days.summaries[0])[0][0]


def test_another_dbt_version_string_invalidates_the_memo(days: Days) -> None:
    installed, other = days.version_plans["installed"], days.version_plans["other dbt"]
    assert installed.passed_in is not None and installed.exclude == (unit_test_memo.UNIT_TESTS,)
    assert other.passed_in is None and other.exclude == ()
    assert other.basis != installed.basis
    assert local_ledger(days.path).unit_tests_passed(str(other.basis)) is None


def _result(success: bool, *statuses: str) -> DbtRunResult:
    nodes = [
        NodeResult(f"unit_test.b.m.t{i}", f"t{i}", "unit_test", s, None, None, 0.1)
        for i, s in enumerate(statuses)
    ]
    nodes.append(NodeResult("test.b.x", "x", "test", "pass", None, 0, 0.1))
    return DbtRunResult("build", success, 1.0, nodes)


def test_only_a_build_whose_unit_tests_all_passed_records(tmp_path: Path) -> None:
    """``settle`` on a real ledger file: a failed, an errored or a skipped unit test, or a
    build that failed after they passed, records nothing."""
    store = local_ledger(tmp_path / "w.duckdb")
    memo = unit_test_memo.Memo("b" * 64, why="first")
    for result in (
        _result(False, "pass", "fail"),
        _result(False, "pass", "error"),
        _result(False, "pass", "skipped"),
        _result(False, "pass", "pass"),
        _result(True),  # no unit test ran
    ):
        note = unit_test_memo.settle(store, memo, result, "r-1")
        assert note.endswith("; 1 data tests ran") and "recorded;" not in note, note
        assert store.unit_tests_passed(memo.basis) is None
    note = unit_test_memo.settle(store, memo, _result(True, "pass", "pass"), "r-2")
    assert note == "unit tests: 2 ran and passed (first), recorded; 1 data tests ran"
    assert store.unit_tests_passed(memo.basis) == ("r-2", 2)
