"""The daily build's dbt unit tests run only when the code they test has not passed them yet.

dbt Labs recommends running unit tests in development and CI only: their inputs are static,
so running them in production spends compute for nothing ("When to run unit tests",
docs.getdbt.com/docs/build/unit-tests; ``--exclude-resource-type unit_test``). Blotter keeps
the conservative form of that. Before a build, :func:`plan` digests everything the unit tests'
outcome depends on (:func:`unit_test_basis`): the project's code (``dbt_manifest.code_basis``:
every node's file and config, every macro), the unit tests' own definitions and fixtures,
dbt's and the adapter's versions, the run's vars, ``dbt_project.yml``, the target and the
build's selection. When an earlier build in the same warehouse recorded that digest after its
unit tests all passed (``LedgerStore.unit_tests_passed``), the build leaves them out
(:data:`UNIT_TESTS`); otherwise they run as before, and a failure stops publication as before.
:func:`settle` records the digest only when every unit test the build ran passed, and says in
one note line how many ran or were skipped and why.

Unit tests whose model (or a macro it calls) reads the run's dates from the environment
(``date_var``: the day's data cutoff, which is not in the digest) always run. The other
environment variables dbt reads name the warehouse (``BLOTTER_BQ_DATASET_PREFIX``): the same
for every build of one warehouse, where the digests are recorded.

``dbt build`` and ``dbt test`` run by hand are unchanged: only the daily graph's build steps
(:func:`build`, ``orchestration.steps``) plan.

Environment variables read here: none.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from orchestration import dbt_invoke
from orchestration.dbt_manifest import code_basis
from orchestration.dbt_runner import DbtRunResult
from orchestration.logs import get_logger
from orchestration.run import RunContext

log = get_logger("dbt")
# The selector that leaves every unit test out of ``dbt build`` (data tests still run).
UNIT_TESTS = "test_type:unit"
# dbt's resource type of a unit test (``--exclude-resource-type unit_test``).
RESOURCE = "unit_test"
# Code that reads the run's dates from the environment (macros/data_window.sql).
RUN_ENVIRONMENT = ("date_var(", "BLOTTER_DBT_")
# The one environment variable unit-tested code may read and still be memoised: it names the
# warehouse's datasets (the same for every build of one warehouse), never a row. Any other
# ``env_var`` makes the unit tests run every build, since its value is not in the digest.
_NAMES_ONLY = "env_var('BLOTTER_BQ_DATASET_PREFIX'"
# What a unit test's outcome depends on in its parsed definition (not where it would be built
# nor when it was parsed: ``schema``, ``created_at``).
_DEFINITION = (
    "unique_id",
    "model",
    "given",
    "expect",
    "overrides",
    "config",
    "versions",
    "version",
    "depends_on",
    "checksum",
)


class MemoStore(Protocol):
    """Where the digests of passed unit tests are recorded (``engines.base.LedgerStore``)."""

    def unit_tests_passed(self, basis: str) -> tuple[str, int] | None:
        """``(run id, unit tests)`` of the build that recorded ``basis``, or None."""

    def record_unit_tests_passed(self, basis: str, run_id: str, unit_tests: int) -> None:
        """Record that ``unit_tests`` unit tests passed on ``basis`` in ``run_id``."""


@dataclass(frozen=True)
class Memo:
    """What a build does with its unit tests: skip them (``passed_in``) or run them."""

    basis: str | None  # None: never memoised (``why``)
    passed_in: str | None = None
    count: int = 0
    why: str = ""

    @property
    def exclude(self) -> tuple[str, ...]:
        """Selectors the build adds to ``--exclude``."""
        return (UNIT_TESTS,) if self.passed_in else ()


def versions(adapter_type: str) -> dict[str, str]:
    """Installed versions of dbt, its adapter and the adapter's database library (``duckdb``;
    a name that is no installed distribution, such as ``bigquery``, is left out)."""
    found = {}
    for name in ("dbt-core", "dbt-adapters", f"dbt-{adapter_type}", adapter_type):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def parts(
    vars: Mapping[str, Any], target: str | None, project_dir: Path, scope: Mapping[str, Any]
) -> list[str]:
    """The run-level inputs of the digest: vars, target, ``dbt_project.yml`` (the project's
    vars) and the build's selection ``scope``."""
    return [
        json.dumps(dict(vars), sort_keys=True, default=str),
        str(target),
        (project_dir / "dbt_project.yml").read_text(),
        json.dumps(dict(scope), sort_keys=True, default=str),
    ]


def _reachable_macros(manifest: Any, names: Iterable[str]) -> Iterable[Any]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        macro = manifest.macros.get(name)
        if name in seen or macro is None:
            continue
        seen.add(name)
        yield macro
        todo.extend(macro.depends_on.macros)


def _reads(code: str | None) -> bool:
    code = code or ""
    other_env = code.count("env_var(") > code.count(_NAMES_ONLY)
    return other_env or any(pattern in code for pattern in RUN_ENVIRONMENT)


def reads_environment(manifest: Any) -> bool:
    """True when a unit-tested model, or a macro it reaches, reads the run's dates from the
    environment (:data:`RUN_ENVIRONMENT`) or any variable but the dataset prefix."""
    for test in manifest.unit_tests.values():
        for uid in test.depends_on.nodes:
            node = manifest.nodes.get(uid)
            if node is None:
                continue
            macros = _reachable_macros(manifest, node.depends_on.macros)
            if _reads(node.raw_code) or any(_reads(m.macro_sql) for m in macros):
                return True
    return False


def unit_test_basis(
    manifest: Any, run_parts: Sequence[str], found: Mapping[str, str] | None = None
) -> str:
    """The digest of what the unit tests' outcome depends on (see the module docstring);
    ``found``: the versions (default :func:`versions` of the manifest's adapter)."""
    adapter = str(getattr(manifest.metadata, "adapter_type", None) or "")
    found = versions(adapter) if found is None else found
    tests = sorted(
        json.dumps({k: v for k, v in t.to_dict().items() if k in _DEFINITION}, sort_keys=True)
        for t in manifest.unit_tests.values()
    )
    fixtures = sorted(
        json.dumps([f.unique_id, f.rows], sort_keys=True, default=str)
        for f in (getattr(manifest, "fixtures", None) or {}).values()
    )
    extra = [*run_parts, adapter, json.dumps(dict(found), sort_keys=True), *tests, *fixtures]
    return code_basis(manifest, ["unit tests", *extra])


def plan(
    store: MemoStore,
    manifest: Any,
    run_parts: Sequence[str],
    found: Mapping[str, str] | None = None,
) -> Memo:
    """Skip the unit tests when ``store`` recorded this build's digest as passed (``found``:
    the versions, as in :func:`unit_test_basis`)."""
    if not manifest.unit_tests:
        return Memo(None, why="the project has none")
    if reads_environment(manifest):
        return Memo(
            None,
            why="a unit-tested model reads the environment (the run's dates, or a variable "
            "the digest cannot hold)",
        )
    basis = unit_test_basis(manifest, run_parts, found)
    passed = store.unit_tests_passed(basis)
    if passed is None:
        return Memo(basis, why="no earlier build passed them on this code, dbt and adapter")
    return Memo(basis, passed_in=passed[0], count=passed[1])


def settle(store: MemoStore, memo: Memo, result: DbtRunResult, run_id: str) -> str:
    """Record ``memo``'s digest when every unit test the build ran passed; the note line (with
    the data tests the build ran, which never depend on the memo)."""
    tested = sum(1 for n in result.nodes if n.resource_type == "test" and n.status != "skipped")
    data = f"{tested} data tests ran"
    if memo.passed_in:
        return (
            f"unit tests: {memo.count} skipped, run {memo.passed_in} passed them on this "
            f"code, dbt and adapter; {data}"
        )
    ran = [n for n in result.nodes if n.resource_type == RESOURCE]
    failed = [n for n in ran if n.status != "pass"]
    passed = bool(ran) and not failed and result.success and result.error is None
    if passed and memo.basis is not None:
        store.record_unit_tests_passed(memo.basis, run_id, len(ran))
        return f"unit tests: {len(ran)} ran and passed ({memo.why}), recorded; {data}"
    if failed:
        return (
            f"unit tests: {len(ran)} ran, {len(failed)} did not pass: nothing recorded, "
            f"the next build runs them again; {data}"
        )
    if not result.success:
        return (
            f"unit tests: {len(ran)} ran and passed, but the build failed: nothing recorded, "
            f"the next build runs them again; {data}"
        )
    return f"unit tests: {len(ran)} ran ({memo.why}); {data}"


def unit_test_parts(
    ctx: RunContext, select: Sequence[str], exclude: Sequence[str], full_refresh: bool
) -> list[str]:
    """The run-level inputs of a build's unit-test digest (``parts``)."""
    scope = {"select": sorted(select), "exclude": sorted(exclude), "full_refresh": full_refresh}
    vars = dbt_invoke.run_vars(ctx, audit=True)
    return parts(vars, ctx.target, dbt_invoke.PROJECT_DIR, scope)


def build(
    ctx: RunContext,
    full_refresh: bool = False,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> dict[str, Any]:
    """``dbt build`` into the build schemas, its unit tests left out when this code already
    passed them in this warehouse; raise unless every node and test passed
    (``dbt_invoke.checked``). The ledger gets one note on the unit tests.

    Raises:
        PublishBlocked: error-severity tests (unit or data) failed: publish must not happen.
        RuntimeError: a model, seed or snapshot failed.
    """
    if RESOURCE in ctx.engine.dbt_extra_args("build"):
        # BigQuery's builds leave every unit test out (each would be a query job): no lookup.
        memo = Memo(None, why="this engine's builds leave them out")
    else:
        run_parts = unit_test_parts(ctx, select, exclude, full_refresh)
        memo = plan(ctx.ledger, dbt_invoke.project(ctx), run_parts)
    result = dbt_invoke.invoke_dbt(
        ctx,
        "build",
        full_refresh=full_refresh,
        select=select,
        exclude=[*exclude, *memo.exclude],
    )
    note = settle(ctx.ledger, memo, result, ctx.run_id)
    log.info(note)
    return dbt_invoke.checked(result, [note])
