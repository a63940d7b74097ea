"""The daily build skips dbt's unit tests only on code that already passed them here (u41).

The real daily runs are checked in the end-to-end scenario (``test_end_to_end.py``: day 1 runs
them and records the digest, the next day on the same code skips them and runs the same data
tests). Here, on a copy of the project parsed by real dbt and a real DuckDB ledger: a digest
recorded as passed makes the next plan skip them; an edited model SQL, an edited unit test
fixture or another dbt version string make it run them again; and ``settle`` records only a
build whose unit tests all passed (``orchestration.unit_test_memo``).
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_parse_reuse import _copy_project

from engines import local_ledger
from orchestration import dbt_invoke, unit_test_memo
from orchestration.dbt_runner import DbtRunResult, NodeResult
from orchestration.run import RunContext, new_run_id
from orchestration.settings import Settings

START, DAY = date(2024, 5, 1), date(2024, 6, 10)
MODEL = Path("models/marts/crime/fct_incident_counts.sql")
UNIT_TESTS = Path("models/marts/crime/_crime__unit_tests.yml")
KEYED = "test_fct_incidents_pseudonymises_with_the_restricted_key"
OLD_KEY, NEW_KEY = "unit-test-key", "u41-fixture-key"


def _edit_fixture(project: Path) -> None:
    """A unit test's fixture (its key) and the expectation that follows from it."""
    tests = project / UNIT_TESTS
    head, tail = tests.read_text().split(f"- name: {KEYED}", 1)
    old_id = hashlib.sha256(f"{OLD_KEY}:A".encode()).hexdigest()
    new_id = hashlib.sha256(f"{NEW_KEY}:A".encode()).hexdigest()
    given = f"{{pseudonym_key: {OLD_KEY}}}"  # the row, not the description
    assert given in tail and old_id in tail
    tail = tail.replace(given, f"{{pseudonym_key: {NEW_KEY}}}", 1).replace(old_id, new_id, 1)
    tests.write_text(f"{head}- name: {KEYED}{tail}")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Plans against one ledger: before and after the base code's pass is recorded, with
    another dbt version, after a model's SQL is edited, and after a fixture is edited."""
    base = tmp_path_factory.mktemp("u41_memo")
    project = base / "project"
    _copy_project(project)
    path = base / "warehouse.duckdb"
    store = local_ledger(path)
    out: dict[str, Any] = {}
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(dbt_invoke, "PROJECT_DIR", project)
        mp.setattr(dbt_invoke, "SAVED_PARSES", base / "saved_parses")
        mp.chdir(base)
        for name in [k for k in os.environ if k.startswith("BLOTTER_")]:
            mp.delenv(name)
        mp.setenv("DBT_TARGET_PATH", str(base / "target"))

        def plan(found: dict[str, str] | None = None) -> unit_test_memo.Memo:
            ctx = RunContext(
                run_id=new_run_id(DAY),
                as_of=DAY,
                target="ci",
                settings=Settings(duckdb_path=path, start_date=START),
            )
            run_parts = unit_test_memo.unit_test_parts(ctx, (), [dbt_invoke.FORECASTING], False)
            return unit_test_memo.plan(store, dbt_invoke.project(ctx), run_parts, found=found)

        out["first"] = plan()
        unit_test_memo.settle(store, out["first"], _result(True, "pass", "pass"), "r-1")
        out["same"] = plan()
        found = unit_test_memo.versions("duckdb")
        out["other dbt"] = plan({**found, "dbt-core": found["dbt-core"] + ".post1"})
        model = project / MODEL
        original = model.read_text()
        model.write_text(original + "\n{# u41: an edit that changes no row #}\n")
        out["model edited"] = plan()
        model.write_text(original)
        out["reverted"] = plan()
        _edit_fixture(project)
        out["fixture edited"] = plan()
        # A unit-tested model reading a variable whose value the digest cannot hold.
        model.write_text(original + "\n{% set _other = env_var('U41_OTHER', '') %}\n")
        out["reads another env_var"] = plan()
    finally:
        mp.undo()
    return out


def test_a_recorded_pass_skips_them_on_the_same_code(plans: dict[str, Any]) -> None:
    first, same = plans["first"], plans["same"]
    assert first.passed_in is None and first.exclude == () and first.basis
    assert same.basis == first.basis and same.passed_in == "r-1" and same.count == 2
    assert same.exclude == (unit_test_memo.UNIT_TESTS,)
    assert plans["reverted"].passed_in == "r-1"  # the digest is of the code, not of a file's age


@pytest.mark.parametrize("change", ["other dbt", "model edited", "fixture edited"])
def test_changed_code_or_dbt_runs_them_again(plans: dict[str, Any], change: str) -> None:
    memo = plans[change]
    assert memo.basis not in (None, plans["first"].basis)
    assert memo.passed_in is None and memo.exclude == ()


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


def test_a_unit_tested_model_reading_another_env_var_always_runs_them(
    plans: dict[str, Any],
) -> None:
    memo = plans["reads another env_var"]
    assert memo.basis is None and memo.passed_in is None and memo.exclude == ()
    assert "environment" in memo.why
