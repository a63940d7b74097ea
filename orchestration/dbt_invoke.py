"""How orchestration calls dbt: the environment, the vars, and what a failed build means.

dbt runs in-process (``orchestration.dbt_runner``). It gets the warehouse settings through the
environment from the run's engine (``Engine.dbt_env()``; ``profiles.yml`` reads them with
``env_var``) but NEVER the pseudonym key: dbt reads the key from ``restricted.pseudonym_key``
(``orchestration.pseudonym``), so no compiled SQL, manifest or log can hold it (CONTRACTS.md A).

dbt vars passed (CONTRACTS.md B): ``schema_prefix`` ('audit_' for audited builds, '' where the
published schemas are addressed) and ``data_start`` (BLOTTER_START_DATE). The run's as-of, dbt's
``data_cutoff``, goes in the environment as ``BLOTTER_DBT_DATA_CUTOFF`` (the ``date_var`` macro
reads ``--vars`` first, then that): vars that change every day would make dbt parse the whole
project again every day, a changed env var re-parses only the two files that read it.

dbt parses the project once per run (:func:`project`): every later call gets that manifest, so
the docs step and BigQuery's view recreation (published schemas, other vars) parse nothing.

Environment variables read here: none; the engine's ``BLOTTER_*`` values are *set* for each dbt
call (``dbt_runner`` hides ``BLOTTER_PSEUDONYM_KEY`` from every dbt call).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engines.base import AUDIT_PREFIX, PublishBlocked
from orchestration.dbt_manifest import published_manifest
from orchestration.dbt_runner import DbtRunResult, run_dbt
from orchestration.logs import get_logger
from orchestration.run import RunContext

# The dbt project is the repository root; an installed (non-editable) package, as in the Docker
# image, runs from the project directory instead.
_REPO = Path(__file__).resolve().parent.parent
PROJECT_DIR = _REPO if (_REPO / "dbt_project.yml").is_file() else Path.cwd()
FORECASTING = "path:models/marts/forecasting"
# Read by the date_var macro when no data_cutoff var is given (see the module docstring).
CUTOFF_ENV = "BLOTTER_DBT_DATA_CUTOFF"
log = get_logger("dbt")


def run_vars(ctx: RunContext, audit: bool) -> dict[str, str]:
    """dbt vars of one invocation of a run (CONTRACTS.md B): the same every day."""
    return {
        "schema_prefix": AUDIT_PREFIX if audit else "",
        "data_start": ctx.settings.start_date.isoformat(),
    }


def run_env(ctx: RunContext) -> dict[str, str | None]:
    """The environment of one dbt call: the engine's settings and the run's data cutoff."""
    return {**ctx.engine.dbt_env(), CUTOFF_ENV: ctx.as_of.isoformat()}


def outputs(result: DbtRunResult) -> dict[str, Any]:
    """Ledger fields of one dbt invocation."""
    return {
        "tests_passed": result.tests_passed,
        "tests_failed": result.tests_failed,
        "tests_warned": result.tests_warned,
        "failing_tests": result.failing_tests,
    }


def _call(
    ctx: RunContext,
    command: str,
    audit: bool,
    manifest: Any = None,
    full_refresh: bool = False,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> DbtRunResult:
    engine = ctx.engine
    try:
        result = run_dbt(
            command,
            vars=run_vars(ctx, audit),
            target=ctx.target,
            full_refresh=full_refresh,
            project_dir=PROJECT_DIR,
            env=run_env(ctx),
            # dbt's own console lines would break `--log-format json`; its log file keeps them.
            extra_args=(
                *(("--log-level", "none") if ctx.log_format == "json" else ("--quiet",)),
                *engine.dbt_extra_args(command),
            ),
            select=select,
            exclude=exclude,
            manifest=manifest,
        )
    finally:
        engine.after_dbt()
    ctx.dbt_parses += result.parses
    ctx.dbt_full_parses += result.full_parses
    log.info(
        f"dbt {command}: {'ok' if result.success else 'failed'} in {result.seconds:.1f}s",
        extra={
            "tests_passed": result.tests_passed,
            "tests_warned": result.tests_warned,
            "failing_tests": result.failing_tests,
            "failing_nodes": result.failing_nodes[:5],
            "dbt_parses": result.parses,
            "dbt_full_parses": result.full_parses,
        },
    )
    if result.transient is not None:
        raise type(result.transient)(result.error or str(result.transient))
    return result


def project(ctx: RunContext, audit: bool = True) -> Any:
    """The run's parsed dbt project (a ``Manifest``) for the audit or the published schemas.

    dbt parses once per run, with the audit vars; the published schemas' manifest is that one
    re-pointed (``orchestration.dbt_manifest``), because parsing with other vars restarts
    partial parsing from scratch.

    Raises:
        RuntimeError: the project does not parse (dbt's error).
    """
    if True not in ctx.dbt_manifests:
        result = _call(ctx, "parse", audit=True)
        if not result.success or result.manifest is None:
            raise RuntimeError(result.error or "dbt could not parse the project")
        ctx.dbt_manifests[True] = result.manifest
    if audit not in ctx.dbt_manifests:
        ctx.dbt_manifests[audit] = published_manifest(ctx.dbt_manifests[True], AUDIT_PREFIX)
    return ctx.dbt_manifests[audit]


def invoke_dbt(
    ctx: RunContext,
    command: str,
    audit: bool = True,
    full_refresh: bool = False,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> DbtRunResult:
    """Run one dbt command in-process against the run's target, on the run's parsed project.

    Raises:
        TransientError: dbt crashed on a transient cause (a held lock, a 5xx): the run retries.
        RuntimeError: the project does not parse.
    """
    return _call(
        ctx,
        command,
        audit,
        manifest=project(ctx, audit),
        full_refresh=full_refresh,
        select=select,
        exclude=exclude,
    )


def build(
    ctx: RunContext,
    full_refresh: bool = False,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> dict:
    """``dbt build`` into the audit schemas; raise unless every node and test passed.

    Raises:
        PublishBlocked: error-severity tests failed (publish must not happen).
        RuntimeError: a model, seed or snapshot failed.
    """
    result = invoke_dbt(ctx, "build", full_refresh=full_refresh, select=select, exclude=exclude)
    if result.failing_tests:
        raise PublishBlocked(result.failing_tests, outputs=outputs(result))
    if not result.success:
        raise RuntimeError(
            "; ".join(result.failing_nodes[:5]) or result.error or "dbt build failed"
        )
    return outputs(result)
