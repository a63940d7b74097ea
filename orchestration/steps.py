"""The steps of ``blotter run``. Thin calls into ingestion/, dbt and ml/: no business logic here.

Every step takes the :class:`orchestration.run.RunContext` and returns a dict of outputs for the
ledger. dbt builds into the audit schemas (var ``schema_prefix='audit_'``); ``publish`` then swaps
them in (see ``orchestration/publish.py``).

Environment variables read here: none; ``BLOTTER_DUCKDB_PATH`` and ``BLOTTER_PSEUDONYM_KEY`` are
*set* for the dbt invocation (``profiles.yml`` reads them with ``env_var``) from the settings.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestration import publish as wap
from orchestration.dbt_runner import DbtRunResult, run_dbt
from orchestration.logs import get_logger
from orchestration.run import RunContext, Step, TransientError

# The dbt project is the repository root; an installed (non-editable) package, as in the Docker
# image, runs from the project directory instead.
_REPO = Path(__file__).resolve().parent.parent
PROJECT_DIR = _REPO if (_REPO / "dbt_project.yml").is_file() else Path.cwd()
AUDIT_VARS = {"schema_prefix": wap.AUDIT_PREFIX}
_NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
FORECASTING = "path:models/marts/forecasting"
log = get_logger("steps")


def _dbt_env(ctx: RunContext) -> dict[str, str | None]:
    """The settings that ``profiles.yml`` and the models read with ``env_var``.

    Settings may come from ``.env``, which dbt does not read, so they are set for each call.
    """
    s = ctx.settings
    return {
        "BLOTTER_DUCKDB_PATH": str(s.duckdb_path),
        "BLOTTER_PSEUDONYM_KEY": s.pseudonym_key,
        "BLOTTER_TARGET": ctx.target,
        "BLOTTER_GCP_PROJECT": s.gcp_project,
        "BLOTTER_BQ_DATASET_PREFIX": s.bq_dataset_prefix,
        "BLOTTER_BQ_LOCATION": s.bq_location,
        "BLOTTER_BQ_AUTH_METHOD": s.bq_auth_method,
        "BLOTTER_BQ_KEYFILE": s.bq_keyfile,
        "BLOTTER_BQ_API_ENDPOINT": s.bq_api_endpoint,
    }


def _outputs(result: DbtRunResult) -> dict[str, Any]:
    """Ledger fields of one dbt invocation."""
    return {
        "tests_passed": result.tests_passed,
        "tests_failed": result.tests_failed,
        "tests_warned": result.tests_warned,
        "failing_tests": result.failing_tests,
    }


def _release_duckdb() -> None:
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
    ctx: RunContext, command: str, audit: bool = True, **selection: Sequence[str]
) -> DbtRunResult:
    """Run one dbt command in-process (``orchestration.dbt_runner``) against the run's target.

    Raises:
        TransientError: when dbt crashed for a retryable reason (e.g. a DuckDB file lock).
    """
    try:
        result = run_dbt(
            command,
            vars=AUDIT_VARS if audit else None,
            target=ctx.target,
            project_dir=PROJECT_DIR,
            env=_dbt_env(ctx),
            # dbt's own console lines would break `--log-format json`; its log file keeps them.
            extra_args=(
                *(("--log-level", "none") if ctx.log_format == "json" else ("--quiet",)),
                # Unit tests check model logic on fixtures: CI's job, not every prod run's
                # (each is a query job on BigQuery).
                *(_NO_UNIT_TESTS if _is_bigquery(ctx) and command == "build" else ()),
            ),
            **selection,
        )
    finally:
        _release_duckdb()
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


def _build(ctx: RunContext, **selection: Sequence[str]) -> dict[str, Any]:
    result = invoke_dbt(ctx, "build", **selection)
    if result.failing_tests:
        # Error-severity tests failed: publish must not happen. Raise with the counts.
        raise wap.PublishBlocked(result.failing_tests, outputs=_outputs(result))
    if not result.success:
        raise RuntimeError(
            "; ".join(result.failing_nodes[:5]) or result.error or "dbt build failed"
        )
    return _outputs(result)


def _is_bigquery(ctx: RunContext) -> bool:
    return ctx.target == "prod"


def _bigquery(ctx: RunContext) -> tuple[Any, Any]:
    """(BigQueryTarget, client) for the prod target, made once per run."""
    if "_bigquery" not in ctx.outputs:
        from ingestion.destinations import bigquery_client
        from orchestration.publish_bigquery import bigquery_target

        target = bigquery_target(ctx.settings)
        ctx.outputs["_bigquery"] = (target, bigquery_client(target))
    return ctx.outputs["_bigquery"]


def step_ingest(ctx: RunContext) -> dict[str, Any]:
    """Land new and changed incidents in ``raw`` (raw is never rolled back)."""
    from ingestion.destinations import landing_destination
    from ingestion.pipeline import ingest

    s = ctx.settings
    bq_target = _bigquery(ctx)[0] if _is_bigquery(ctx) else None
    with landing_destination(ctx.target, s.duckdb_path, bq_target) as destination:
        result = ingest(
            source_url=s.source_url,
            duckdb_path=s.duckdb_path,
            start_date=s.start_date,
            as_of=ctx.as_of,
            app_token=s.app_token,
            faults=s.demo_faults,
            show_progress=False,
            destination=destination,
        )
    return {
        "rows_fetched": result.fetched,
        "rows_loaded": result.loaded,
        "rows_rejected": result.rejected,
        "load_id": result.load_id,
    }


def step_build_warehouse(ctx: RunContext) -> dict[str, Any]:
    """Reset the audit schemas from the published ones, then build and test everything but ML."""
    if _is_bigquery(ctx):
        from orchestration import publish_bigquery

        copied = publish_bigquery.prepare_audit(_bigquery(ctx)[1], _bigquery(ctx)[0])
    else:
        copied = wap.prepare_audit(ctx.duckdb_path)
    out = _build(ctx, exclude=[FORECASTING])
    return {**out, "audit_tables_seeded": copied}


def step_forecast(ctx: RunContext) -> dict[str, Any]:
    """Train, backtest and forecast from ``audit_marts`` into ``audit_ml``."""
    from ml.pipeline import run_pipeline

    if _is_bigquery(ctx):
        from ml.bigquery_warehouse import BigQueryWarehouse

        target, client = _bigquery(ctx)
        warehouse: Any = BigQueryWarehouse(client, target.dataset_prefix, target.location)
    else:
        from ml.warehouse import DuckDBWarehouse

        warehouse = DuckDBWarehouse(ctx.duckdb_path)
    result = run_pipeline(
        warehouse,
        marts_schema=wap.AUDIT_PREFIX + "marts",
        ml_schema=wap.AUDIT_PREFIX + "ml",
        as_of=ctx.as_of,
    )
    return {
        "forecast_run_id": result.run_id,
        "model_version": result.model_version,
        "model_status": result.status,
        "forecasts": result.forecasts,
        "data_cutoff": result.data_cutoff,
    }


def step_build_ml(ctx: RunContext) -> dict[str, Any]:
    """Build and test the forecasting marts and the tests on ``audit_ml`` sources."""
    return _build(ctx, select=[FORECASTING])


def step_publish(ctx: RunContext) -> dict[str, Any]:
    """Swap the audit schemas in (only reached when every test passed; checked again here)."""
    failing = [
        t
        for out in ctx.outputs.values()
        if isinstance(out, dict)
        for t in out.get("failing_tests", [])
    ]
    if _is_bigquery(ctx):
        from orchestration import publish_bigquery

        target, client = _bigquery(ctx)

        def recreate_views() -> None:
            # Views are code: dbt recreates them in the published datasets (no audit prefix).
            result = invoke_dbt(ctx, "run", audit=False, select=["config.materialized:view"])
            if not result.success:
                raise RuntimeError(result.error or "dbt could not recreate the published views")

        return publish_bigquery.publish(
            client, target, failing_tests=failing, recreate_views=recreate_views
        ).to_dict()
    return wap.publish(ctx.duckdb_path, failing_tests=failing).to_dict()


def step_docs(ctx: RunContext) -> dict[str, Any]:
    """``dbt docs generate`` against the published schemas (the site lands in ``target/``)."""
    result = invoke_dbt(ctx, "docs generate", audit=False)
    if not result.success:
        raise RuntimeError(result.error or "dbt docs generate failed")
    # dbt honours DBT_TARGET_PATH (tests point it at a temp dir); default: <project>/target.
    target_path = os.environ.get("DBT_TARGET_PATH") or str(PROJECT_DIR / "target")
    return {"docs": str(Path(target_path) / "index.html")}


def default_steps() -> list[tuple[str, Step]]:
    """The daily graph in order."""
    return [
        ("ingest", step_ingest),
        ("build_warehouse", step_build_warehouse),
        ("forecast", step_forecast),
        ("build_ml", step_build_ml),
        ("publish", step_publish),
        ("docs", step_docs),
    ]
