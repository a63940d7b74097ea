"""The steps of every publishing command. Thin calls into ingestion/, dbt and ml/.

Every step takes the :class:`orchestration.run.RunContext` and returns a dict of outputs for the
ledger. dbt and ``ml/`` build into the engine's build schemas (``Engine.build_prefixes``:
``audit_*`` on BigQuery, the colour not live on DuckDB; see ``orchestration.dbt_invoke``);
``publish`` then swaps them in. Everything engine-specific goes
through ``ctx.engine`` (``engines.base.Engine``): no step asks which engine it runs on.
The graphs at the end put the steps together: the daily run, ``blotter rekey``, ``blotter
forecast`` and ``blotter model approve|rollback``.

Environment variables read here: ``DBT_TARGET_PATH`` (where dbt writes the docs site).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engines.base import PUBLISHED_SCHEMAS, landing_state_dir
from orchestration import continued, dbt_invoke, dbt_manifest, pseudonym, unit_test_memo
from orchestration.dbt_invoke import FORECASTING, PROJECT_DIR, invoke_dbt
from orchestration.logs import get_logger
from orchestration.run import RunContext, Step

if TYPE_CHECKING:  # ingestion imports dlt: only the ingest step loads it
    from ingestion.pipeline import IngestResult

# Forecasting commands republish only these: fct_forecasts lives in marts, the registry in ml.
ML_SCHEMAS = ("marts", "ml")
log = get_logger("steps")


def ml_warehouse(ctx: RunContext) -> Any:
    """``ml/``'s store on the run's engine."""
    from ml.warehouse import open_warehouse

    return open_warehouse(ctx.engine)


def build_schema(ctx: RunContext, schema: str) -> str:
    """Where this command builds the published schema ``schema`` (``audit_ml``, ``green_ml``)."""
    return ctx.engine.build_prefixes()[schema] + schema


def prepare_audit(ctx: RunContext, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> int:
    """Reset the build schemas of ``schemas`` to copies of every published table.

    For commands that rebuild only part of a schema (forecasting, the registry): what they do
    not rebuild must be in the audit schema when it is published.
    """
    return ctx.engine.prepare_audit(schemas)


def drop_audit(ctx: RunContext, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> None:
    """Remove the build schemas of ``schemas`` again (the command stopped before building)."""
    ctx.engine.drop_audit(schemas)


def step_ingest(ctx: RunContext) -> dict[str, Any]:
    """Land new and changed incidents in ``raw`` (raw is never rolled back)."""
    from ingestion.pipeline import ingest

    s = ctx.settings
    is_url = s.source.startswith(("http://", "https://"))
    with ctx.engine.landing() as destination:
        result = ingest(
            s.source if is_url else None,
            landing_state_dir(ctx.engine.local_path),
            s.start_date,
            as_of=ctx.as_of,
            app_token=s.app_token.get_secret_value() if s.app_token else None,
            faults=s.demo_faults,
            show_progress=False,
            destination=destination,
            profile=None if is_url else s.source,
        )
    return {
        "rows_fetched": result.fetched,
        "rows_loaded": result.loaded,
        "rows_rejected": result.rejected,
        "load_id": result.load_id,
        "notes": ingest_notes(result),
    }


def ingest_notes(result: IngestResult) -> list[str]:
    """Worth a look, not a failure (ingestion already logged each at WARNING): the ledger keeps
    schema drift, future-dated records held back, a warehouse created by this run and a load an
    interrupted run left pending that this run finished."""
    notes = [f"source drift: {line}" for line in result.drift]
    if result.quarantined_future:
        notes.append(
            f"{result.quarantined_future} record(s) dated after the as-of were quarantined"
        )
    if result.new_warehouse:
        notes.append(f"raw landing created in a new warehouse ({result.source_id})")
    notes.extend(f"recovered: {line}" for line in result.recovered)
    return notes


def step_build_warehouse(ctx: RunContext) -> dict[str, Any]:
    """Reset the build schemas, then build and test everything but ML.

    The build schemas hold the published tables the build continues from only
    (``continued.continued_tables``): the build rewrites every other table, so copying it would
    cost a pass over the history for nothing. Where the build colour still holds a published
    state of this build's code and key (DuckDB keeps the previous one), the nodes that catch
    up (``dbt_manifest.CATCH_UP``) are continued from it, and the snapshots and the ML store
    are brought level with the live colour (``continued.levelled_tables``), instead of copied.
    ``ctx.full_refresh`` (``blotter rekey``) rebuilds every incremental model from scratch.
    """
    copied = ctx.engine.prepare_audit(
        PUBLISHED_SCHEMAS,
        tables=continued.continued_tables(ctx),
        catch_up=dbt_manifest.catch_up_tables(dbt_invoke.project(ctx), PUBLISHED_SCHEMAS),
        levelled=continued.levelled_tables(ctx),
        basis=continued.build_basis(ctx),
    )
    out = unit_test_memo.build(ctx, full_refresh=ctx.full_refresh, exclude=[FORECASTING])
    return {**out, "audit_tables_seeded": copied}


def step_prepare_ml_audit(ctx: RunContext) -> dict[str, Any]:
    """Copy the published marts and ml tables into the build schemas (forecasting commands)."""
    return {"audit_tables_seeded": prepare_audit(ctx, ML_SCHEMAS)}


def step_forecast(ctx: RunContext, counts_schema: str | None = None) -> dict[str, Any]:
    """Train, backtest and forecast from the build's marts (or ``counts_schema``) to its ml."""
    from ml.pipeline import run_pipeline

    result = run_pipeline(
        ml_warehouse(ctx),
        marts_schema=counts_schema or build_schema(ctx, "marts"),
        ml_schema=build_schema(ctx, "ml"),
        as_of=ctx.as_of,
    )
    return {
        "forecast_run_id": result.run_id,
        "model_version": result.model_version,
        "model_status": result.status,
        "forecasts": result.forecasts,
        "data_cutoff": result.data_cutoff,
        # e.g. "monthly: no complete period yet, no monthly forecasts"
        "notes": [f"forecast: {note}" for note in result.notes],
    }


def step_forecast_when_complete(ctx: RunContext) -> dict[str, Any]:
    """The daily run's forecast: before any period is complete, no forecasts, and a note.

    A new city's first run on a history shorter than the reporting-lag allowance has nothing
    to train on; its counts are still right and are published. The ledger says why there are
    no forecasts; the registry and the published forecasts stay as they were.
    """
    from ml.pipeline import NothingToForecastError

    try:
        return step_forecast(ctx)
    except NothingToForecastError as exc:
        log.warning(f"no forecasts this run: {exc}")
        return {"forecasts": 0, "model_status": "skipped", "notes": [f"forecast: skipped: {exc}"]}


def step_build_ml(ctx: RunContext) -> dict[str, Any]:
    """Build and test the forecasting marts and the tests on the build's ``ml`` sources."""
    return unit_test_memo.build(ctx, select=[FORECASTING])


def step_publish(ctx: RunContext) -> dict[str, Any]:
    """Publish the build schemas (only reached when every test passed; checked again here).

    The fingerprint of the key that built what is published changes with it (atomically where
    the engine can).
    """
    failing = [
        t
        for out in ctx.outputs.values()
        if isinstance(out, dict)
        for t in out.get("failing_tests", [])
    ]
    fingerprint = pseudonym.Fingerprint.of(ctx.settings.pseudonym_key.get_secret_value()).stored()

    def recreate_views() -> None:
        # Views are code: dbt recreates them in the published schemas (no audit prefix).
        result = invoke_dbt(ctx, "run", audit=False, select=["config.materialized:view"])
        if not result.success:
            raise RuntimeError(result.error or "dbt could not recreate the published views")

    return ctx.engine.publish(
        ctx.publish_schemas or PUBLISHED_SCHEMAS,
        failing_tests=failing,
        fingerprint=(pseudonym.PUBLISHED, fingerprint),
        recreate_views=recreate_views,
    ).to_dict()


def step_docs(ctx: RunContext) -> dict[str, Any]:
    """``dbt docs generate`` against the published schemas (the site lands in ``target/``)."""
    result = invoke_dbt(ctx, "docs generate", audit=False)
    if not result.success:
        raise RuntimeError(result.error or "dbt docs generate failed")
    # dbt honours DBT_TARGET_PATH (tests point it at a temp dir); default: <project>/target.
    target_path = os.environ.get("DBT_TARGET_PATH") or str(PROJECT_DIR / "target")
    return {"docs": str(Path(target_path) / "index.html")}


def default_steps(docs: bool = True) -> list[tuple[str, Step]]:
    """The daily graph in order.

    Args:
        docs: End with the docs step; ``blotter run --no-docs`` leaves it out (the published
            data is the same; the docs site in ``target/`` stays as the last run left it).
    """
    graph: list[tuple[str, Step]] = [
        ("ingest", step_ingest),
        ("build_warehouse", step_build_warehouse),
        ("forecast", step_forecast_when_complete),
        ("build_ml", step_build_ml),
        ("publish", step_publish),
    ]
    return [*graph, ("docs", step_docs)] if docs else graph


def rekey_steps() -> list[tuple[str, Step]]:
    """``blotter rekey``: full-refresh build with the new key, forecasts, tests, publish.

    No ingest (the data stays as published) and no docs (models and columns do not change).
    It forecasts like the daily run: after a source-profile edit (a geography level added),
    the rebuilt marts have areas the published forecasts do not cover (p42).
    """
    return [
        ("build_warehouse", step_build_warehouse),
        ("forecast", step_forecast_when_complete),
        ("build_ml", step_build_ml),
        ("publish", step_publish),
    ]


def forecast_steps(counts_schema: str | None = None) -> list[tuple[str, Step]]:
    """``blotter forecast``: a new model run through audit → build → publish of marts and ml.

    Run with ``ctx.publish_schemas = ML_SCHEMAS``. ``counts_schema``: read the counts there
    instead of the build's marts (a copy of the published marts).
    """
    return [
        ("prepare_audit", step_prepare_ml_audit),
        ("forecast", lambda ctx: step_forecast(ctx, counts_schema)),
        ("build_ml", step_build_ml),
        ("publish", step_publish),
    ]


def registry_steps(change: Step) -> list[tuple[str, Step]]:
    """``blotter model approve|rollback`` after ``change`` edited the build's ml registry.

    The forecasting marts are rebuilt and published, so fct_forecasts serves the new champion.
    The caller prepares the audit schemas and makes the change first (a mistake such as an
    unknown run id then exits 2 without a ledger row); ``change`` reports it to the ledger.
    Run with ``ctx.publish_schemas = ML_SCHEMAS``.
    """
    return [("registry", change), ("build_ml", step_build_ml), ("publish", step_publish)]


__all__ = ["dbt_invoke", "default_steps", "forecast_steps", "registry_steps", "rekey_steps"]
