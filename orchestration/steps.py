"""The steps of ``blotter run``. Thin calls into ingestion/, dbt and ml/: no business logic here.

Every step takes the :class:`orchestration.run.RunContext` and returns a dict of outputs for the
ledger. dbt builds into the audit schemas (var ``schema_prefix='audit_'``); ``publish`` then swaps
them in (see ``orchestration/publish.py``).

Environment variables read here: none; ``BLOTTER_DUCKDB_PATH`` and ``BLOTTER_PSEUDONYM_KEY`` are
*set* for the dbt invocation (``profiles.yml`` reads them with ``env_var``) from the settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration import publish as wap
from orchestration.logs import get_logger
from orchestration.run import RunContext, Step, TransientError

# The dbt project is the repository root; an installed (non-editable) package, as in the Docker
# image, runs from the project directory instead.
_REPO = Path(__file__).resolve().parent.parent
PROJECT_DIR = _REPO if (_REPO / "dbt_project.yml").is_file() else Path.cwd()
AUDIT_VARS = {"schema_prefix": wap.AUDIT_PREFIX}
FORECASTING = "path:models/marts/forecasting"
log = get_logger("steps")


@dataclass
class DbtOutcome:
    """Counts and names from one ``dbt build``/``docs generate`` invocation."""

    success: bool
    tests_passed: int = 0
    tests_warned: int = 0
    failing_tests: list[str] = field(default_factory=list)
    failing_nodes: list[str] = field(default_factory=list)
    error: str | None = None

    def outputs(self) -> dict[str, Any]:
        """Ledger fields."""
        return {
            "tests_passed": self.tests_passed,
            "tests_failed": len(self.failing_tests),
            "tests_warned": self.tests_warned,
            "failing_tests": self.failing_tests,
        }


@contextmanager
def _dbt_env(ctx: RunContext) -> Iterator[None]:
    """Expose the settings that ``profiles.yml`` reads with ``env_var`` for one dbt call.

    Settings may come from ``.env``, which dbt does not read, so they are set explicitly.
    """
    s = ctx.settings
    wanted = {
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
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update({k: v for k, v in wanted.items() if v is not None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def summarise(result: Any) -> DbtOutcome:
    """Turn a ``dbtRunnerResult`` into counts and failing test / node names."""
    if result.exception is not None:
        return DbtOutcome(success=False, error=f"dbt crashed: {result.exception}")
    outcome = DbtOutcome(success=bool(result.success))
    for res in getattr(result.result, "results", None) or []:
        node = res.node
        status = str(getattr(res.status, "value", res.status))
        if node.resource_type == "test" or getattr(node, "resource_type", "") == "unit_test":
            if status == "pass":
                outcome.tests_passed += 1
            elif status == "warn":
                outcome.tests_warned += 1
            elif status in ("fail", "error"):
                outcome.failing_tests.append(node.name)
        elif status == "error":
            outcome.failing_nodes.append(f"{node.resource_type} {node.name}: {res.message}")
    if not outcome.success and not (outcome.failing_tests or outcome.failing_nodes):
        outcome.error = "dbt reported failure without a failing node"
    return outcome


def invoke_dbt(ctx: RunContext, args: Sequence[str], audit: bool = True) -> DbtOutcome:
    """Run one dbt command in-process against the run's target.

    Raises:
        TransientError: when dbt crashed for a retryable reason (e.g. a DuckDB file lock).
    """
    import json

    from dbt.cli.main import dbtRunner

    full = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        ctx.target,
        # dbt's own console lines would break `--log-format json`; its log file keeps them.
        *(["--log-level", "none"] if ctx.log_format == "json" else ["--quiet"]),
    ]
    if audit:
        full += ["--vars", json.dumps(AUDIT_VARS)]
    with _dbt_env(ctx):
        outcome = summarise(dbtRunner().invoke(full))
    log.info(
        f"dbt {' '.join(args)}: {'ok' if outcome.success else 'failed'}",
        extra={
            "tests_passed": outcome.tests_passed,
            "tests_warned": outcome.tests_warned,
            "failing_tests": outcome.failing_tests,
            "failing_nodes": outcome.failing_nodes[:5],
        },
    )
    if outcome.error and "lock" in outcome.error.lower():
        raise TransientError(outcome.error)
    return outcome


def _build(ctx: RunContext, selection: Sequence[str]) -> dict[str, Any]:
    outcome = invoke_dbt(ctx, ["build", *selection])
    if outcome.failing_tests:
        # Error-severity tests failed: publish must not happen. Raise with the counts.
        raise wap.PublishBlocked(outcome.failing_tests, outputs=outcome.outputs())
    if not outcome.success:
        raise RuntimeError(
            "; ".join(outcome.failing_nodes[:5]) or outcome.error or "dbt build failed"
        )
    return outcome.outputs()


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
    out = _build(ctx, ["--exclude", FORECASTING])
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
    return _build(ctx, ["--select", FORECASTING])


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
        return publish_bigquery.publish(client, target, failing_tests=failing).to_dict()
    return wap.publish(ctx.duckdb_path, failing_tests=failing).to_dict()


def step_docs(ctx: RunContext) -> dict[str, Any]:
    """``dbt docs generate`` against the published schemas (the site lands in ``target/``)."""
    outcome = invoke_dbt(ctx, ["docs", "generate"], audit=False)
    if not outcome.success:
        raise RuntimeError(outcome.error or "dbt docs generate failed")
    return {"docs": str(PROJECT_DIR / "target" / "index.html")}


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
