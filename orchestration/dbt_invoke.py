"""How orchestration calls dbt: the environment, the vars, and what a failed build means.

dbt runs in-process (``orchestration.dbt_runner``). It gets the warehouse settings through the
environment (``profiles.yml`` reads them with ``env_var``) but NEVER the pseudonym key: dbt reads
the key from ``restricted.pseudonym_key`` (``orchestration.pseudonym``), so no compiled SQL,
manifest or log can hold it (CONTRACTS.md A).

dbt vars passed (CONTRACTS.md B): ``schema_prefix`` ('audit_' for audited builds, '' where the
published schemas are addressed), ``data_cutoff`` (the run's as-of) and ``data_start``
(BLOTTER_START_DATE).

Environment variables read here: none; the ``BLOTTER_*`` values below are *set* for each dbt call
from the settings (``dbt_runner`` hides ``BLOTTER_PSEUDONYM_KEY`` from every dbt call).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestration import publish as wap
from orchestration.dbt_runner import DbtRunResult, run_dbt
from orchestration.errors import TransientError
from orchestration.logs import get_logger
from orchestration.run import RunContext
from orchestration.settings import Settings

# The dbt project is the repository root; an installed (non-editable) package, as in the Docker
# image, runs from the project directory instead.
_REPO = Path(__file__).resolve().parent.parent
PROJECT_DIR = _REPO if (_REPO / "dbt_project.yml").is_file() else Path.cwd()
_NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
FORECASTING = "path:models/marts/forecasting"
log = get_logger("dbt")


def dbt_env(settings: Settings, target: str) -> dict[str, str | None]:
    """The settings ``profiles.yml`` and the models read with ``env_var``, minus the key.

    Settings may come from ``.env``, which dbt does not read, so they are set for each call.
    ``run_dbt`` removes ``BLOTTER_PSEUDONYM_KEY`` for the call even when the shell exported it.
    """
    s = settings
    return {
        "BLOTTER_DUCKDB_PATH": str(s.duckdb_path),
        "BLOTTER_TARGET": target,
        "BLOTTER_GCP_PROJECT": s.gcp_project,
        "BLOTTER_BQ_DATASET_PREFIX": s.bq_dataset_prefix,
        "BLOTTER_BQ_LOCATION": s.bq_location,
        "BLOTTER_BQ_AUTH_METHOD": s.bq_auth_method,
        "BLOTTER_BQ_KEYFILE": s.bq_keyfile,
        "BLOTTER_BQ_API_ENDPOINT": s.bq_api_endpoint,
    }


def run_vars(ctx: RunContext, audit: bool) -> dict[str, str]:
    """dbt vars of one invocation of a run (CONTRACTS.md B)."""
    return {
        "schema_prefix": wap.AUDIT_PREFIX if audit else "",
        "data_cutoff": ctx.as_of.isoformat(),
        "data_start": ctx.settings.start_date.isoformat(),
    }


def outputs(result: DbtRunResult) -> dict[str, Any]:
    """Ledger fields of one dbt invocation."""
    return {
        "tests_passed": result.tests_passed,
        "tests_failed": result.tests_failed,
        "tests_warned": result.tests_warned,
        "failing_tests": result.failing_tests,
    }


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation.

    Otherwise ``ml/`` (which opens the file read-only) and publish fail with "Can't open a
    connection to same database file with a different configuration".
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()  # cursors dbt still references keep the database instance alive


def invoke_dbt(
    ctx: RunContext,
    command: str,
    audit: bool = True,
    full_refresh: bool = False,
    **selection: Sequence[str],
) -> DbtRunResult:
    """Run one dbt command in-process against the run's target.

    Raises:
        TransientError: when dbt crashed for a retryable reason (e.g. a DuckDB file lock).
    """
    bigquery_build = ctx.target == "prod" and command == "build"
    try:
        result = run_dbt(
            command,
            vars=run_vars(ctx, audit),
            target=ctx.target,
            full_refresh=full_refresh,
            project_dir=PROJECT_DIR,
            env=dbt_env(ctx.settings, ctx.target),
            # dbt's own console lines would break `--log-format json`; its log file keeps them.
            extra_args=(
                *(("--log-level", "none") if ctx.log_format == "json" else ("--quiet",)),
                # Unit tests check model logic on fixtures: CI's job, not every prod run's
                # (each is a query job on BigQuery).
                *(_NO_UNIT_TESTS if bigquery_build else ()),
            ),
            **selection,
        )
    finally:
        release_duckdb()
    log.info(
        f"dbt {command}: {'ok' if result.success else 'failed'} in {result.seconds:.1f}s",
        extra={
            "tests_passed": result.tests_passed,
            "tests_warned": result.tests_warned,
            "failing_tests": result.failing_tests,
            "failing_nodes": result.failing_nodes[:5],
        },
    )
    if result.error and "lock" in result.error.lower():
        raise TransientError(result.error)
    return result


def build(ctx: RunContext, full_refresh: bool = False, **selection: Sequence[str]) -> dict:
    """``dbt build`` into the audit schemas; raise unless every node and test passed.

    Raises:
        PublishBlocked: error-severity tests failed (publish must not happen).
        RuntimeError: a model, seed or snapshot failed.
    """
    result = invoke_dbt(ctx, "build", full_refresh=full_refresh, **selection)
    if result.failing_tests:
        raise wap.PublishBlocked(result.failing_tests, outputs=outputs(result))
    if not result.success:
        raise RuntimeError(
            "; ".join(result.failing_nodes[:5]) or result.error or "dbt build failed"
        )
    return outputs(result)
