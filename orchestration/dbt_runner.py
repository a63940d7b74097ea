"""Run dbt in-process (``dbtRunner``) and report what happened to each node.

``run_dbt("build", select=..., vars=..., target=...)`` returns a :class:`DbtRunResult` with one
:class:`NodeResult` per model, seed, snapshot, test and unit test: status, message, rows (rows
written for models and seeds, failing rows for tests) and timing. :mod:`orchestration.dbt_report`
shows it with rich. dbt's Jinja compiles through the project's cache (``dbt_jinja``).

Environment variables read here: none. ``env`` values passed to :func:`run_dbt` (the engine's
``dbt_env()``) are set for the duration of the dbt call (``profiles.yml`` reads them with
``env_var``), except ``BLOTTER_PSEUDONYM_KEY``: what dbt can read with ``env_var`` ends up in its
manifest, compiled SQL and logs, so dbt reads the key from ``orchestration.pseudonym``'s table.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from engines.env import scoped_env
from engines.errors import TransientError
from orchestration.dbt_jinja import compiled_templates
from orchestration.errors import describe, transient_cause

# The dbt project (dbt_project.yml + profiles.yml) is the repository root.
PROJECT_DIR = Path(__file__).resolve().parent.parent
TEST_TYPES = ("test", "unit_test")
# Never visible to dbt (see the module docstring).
HIDDEN_FROM_DBT = ("BLOTTER_PSEUDONYM_KEY",)
# The event dbt fires each time it loads the project (full or partial parse).
PARSE_EVENT = "StateCheckVarsHash"
# Fired when dbt cannot reuse its saved parse (none, other vars/profile, new config): full parse.
FULL_PARSE_EVENT = "UnableToPartialParse"
# GC thresholds while dbt runs: at (700, 10, 10) the collector rescans dbt's long-lived objects
# ~1,570 times per incremental build, ~9 % of its CPU (t28); it still runs, only less often.
DBT_GC_THRESHOLDS = (10_000, 50, 100)


@dataclass(frozen=True)
class NodeResult:
    """Outcome of one dbt node."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None
    rows: int | None
    seconds: float
    relation: str | None = None


@dataclass
class DbtRunResult:
    """Outcome of one dbt invocation."""

    command: str
    success: bool
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None
    # The typed transient error dbt's crash wraps (a held lock, a 5xx), for the retry policy.
    transient: TransientError | None = None
    # Times dbt loaded the project (full or partial parse); 0 when a parsed manifest was given.
    parses: int = 0
    # Of those, loads that parsed the whole project (not a partial parse).
    full_parses: int = 0
    # The parsed project (``dbt.contracts.graph.manifest.Manifest``) of a ``parse`` command.
    manifest: Any = field(default=None, repr=False)

    def _tests(self, *statuses: str) -> list[NodeResult]:
        return [n for n in self.nodes if n.resource_type in TEST_TYPES and n.status in statuses]

    @property
    def tests_passed(self) -> int:
        """Tests and unit tests that passed."""
        return len(self._tests("pass"))

    @property
    def tests_warned(self) -> int:
        """Tests that failed at warn severity."""
        return len(self._tests("warn"))

    @property
    def tests_failed(self) -> int:
        """Tests that failed at error severity or errored."""
        return len(self._tests("fail", "error"))

    @property
    def failing_tests(self) -> list[str]:
        """Names of the tests that failed or errored."""
        return [n.name for n in self._tests("fail", "error")]

    @property
    def warning_tests(self) -> list[str]:
        """Names of the tests that warned."""
        return [n.name for n in self._tests("warn")]

    @property
    def failing_nodes(self) -> list[str]:
        """Models, seeds and snapshots that errored (``type name: message``)."""
        return [
            f"{n.resource_type} {n.name}: {n.message}"
            for n in self.nodes
            if n.resource_type not in TEST_TYPES and n.status == "error"
        ]

    def node(self, name: str) -> NodeResult:
        """The result of the node called ``name`` (KeyError when absent)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary, with every node."""
        return {
            "command": self.command,
            "success": self.success,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            "tests_passed": self.tests_passed,
            "tests_warned": self.tests_warned,
            "tests_failed": self.tests_failed,
            "failing_tests": self.failing_tests,
            "failing_nodes": self.failing_nodes,
            "parses": self.parses,
            "nodes": [asdict(n) for n in self.nodes],
        }


def _rows(res: Any) -> int | None:
    if res.node.resource_type in TEST_TYPES:
        return getattr(res, "failures", None)
    response = getattr(res, "adapter_response", None) or {}
    rows = response.get("rows_affected") if isinstance(response, dict) else None
    return rows if isinstance(rows, int) and rows >= 0 else None


def _node_result(res: Any) -> NodeResult:
    node = res.node
    return NodeResult(
        unique_id=node.unique_id,
        name=node.name,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=str(getattr(res.status, "value", res.status)),
        message=res.message,
        rows=_rows(res),
        seconds=round(float(res.execution_time or 0.0), 3),
        relation=getattr(node, "relation_name", None),
    )


def _fill_row_counts(result: DbtRunResult, count_rows: Callable[[list[str]], dict]) -> None:
    """Fill ``rows`` of built relations the adapter did not report (``Engine.count_rows``)."""
    built = [
        n
        for n in result.nodes
        if n.relation and n.resource_type not in TEST_TYPES and n.status == "success"
    ]
    if not built:
        return
    # relation_name comes from dbt's manifest (quoted identifiers), not from data.
    counts = count_rows([str(n.relation) for n in built])
    for i, n in enumerate(result.nodes):
        if n in built and n.relation in counts:
            result.nodes[i] = replace(n, rows=int(counts[n.relation]))


@contextmanager
def gc_thresholds(thresholds: Sequence[int] = DBT_GC_THRESHOLDS) -> Iterator[None]:
    """Raise the collector's thresholds for the block (never lower the caller's), then restore."""
    before = gc.get_threshold()
    gc.set_threshold(*(max(new, old) for new, old in zip(thresholds, before, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def dbt_args(
    command: str,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    vars: Mapping[str, Any] | None = None,
    target: str | None = None,
    full_refresh: bool = False,
    project_dir: Path = PROJECT_DIR,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The dbt CLI arguments for one invocation (exposed for logging and tests)."""
    args = [*command.split(), "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    if vars:
        args += ["--vars", json.dumps(dict(vars))]
    if target:
        args += ["--target", target]
    if full_refresh:
        args.append("--full-refresh")
    return [*args, *extra_args]


def run_dbt(
    command: str = "build",
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    vars: Mapping[str, Any] | None = None,
    target: str | None = None,
    full_refresh: bool = False,
    project_dir: Path = PROJECT_DIR,
    env: Mapping[str, str | None] | None = None,
    extra_args: Sequence[str] = ("--quiet",),
    callbacks: Sequence[Callable[[Any], None]] = (),
    count_rows: Callable[[list[str]], dict] | None = None,
    manifest: Any = None,
) -> DbtRunResult:
    """Run one dbt command in this process and collect per-node results.

    dbt uses global state: never call this from two threads at once.

    Args:
        command: dbt command, e.g. ``"build"``, ``"test"``, ``"docs generate"``.
        select: ``--select`` selectors.
        exclude: ``--exclude`` selectors.
        vars: project variables (``--vars``), e.g. ``{"schema_prefix": "audit_"}``.
        target: profile target (default: ``BLOTTER_TARGET`` or ``dev``).
        full_refresh: rebuild incremental models and seeds from scratch.
        project_dir: directory holding dbt_project.yml and profiles.yml.
        env: environment variables set for the call (None values are left alone).
        extra_args: further CLI arguments (default ``--quiet``).
        callbacks: dbt event callbacks (see :func:`orchestration.dbt_report.progress_callback`).
        count_rows: counts the rows of built relations whose adapter reports none
            (``Engine.count_rows``).
        manifest: a project dbt already parsed (a ``parse`` result's ``manifest``, same vars or
            re-pointed by ``orchestration.dbt_manifest``): dbt then does not parse again.

    Returns:
        The invocation's outcome; ``success`` is False when any node failed or dbt crashed.
    """
    from dbt.cli.main import dbtRunner

    args = dbt_args(
        command,
        select=select,
        exclude=exclude,
        vars=vars,
        target=target,
        full_refresh=full_refresh,
        project_dir=project_dir,
        extra_args=extra_args,
    )
    parses = full_parses = 0

    def count_parses(event: Any) -> None:
        # dbt checks the vars hash once per project load, partial or full.
        nonlocal parses, full_parses
        if event.info.name == PARSE_EVENT:
            parses += 1
        elif event.info.name == FULL_PARSE_EVENT:
            full_parses += 1

    started = time.perf_counter()
    hidden = scoped_env(env or {}, hide=HIDDEN_FROM_DBT)
    with hidden, gc_thresholds(), compiled_templates(project_dir):
        runner = dbtRunner(manifest=manifest, callbacks=[*callbacks, count_parses])
        outcome = runner.invoke(args)
    result = DbtRunResult(
        command=command,
        success=bool(outcome.success),
        seconds=time.perf_counter() - started,
        parses=parses,
        full_parses=full_parses,
    )
    if command == "parse" and outcome.success:
        result.manifest = outcome.result
    if outcome.exception is not None:
        result.success = False
        # dbt wraps adapter errors (a corrupt file, a lock): name the root cause.
        result.error = describe(outcome.exception)
        result.transient = transient_cause(outcome.exception)
    for res in getattr(outcome.result, "results", None) or []:
        result.nodes.append(_node_result(res))
    if count_rows is not None:
        _fill_row_counts(result, count_rows)
    return result


def build(**kwargs: Any) -> DbtRunResult:
    """``dbt build`` (seeds, models, snapshots, tests in DAG order); see :func:`run_dbt`."""
    return run_dbt("build", **kwargs)
