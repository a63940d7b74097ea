"""``blotter forecast`` and ``blotter model list|approve|rollback``.

``forecast``, ``model approve`` and ``model rollback`` change what planners read, so by default
they go through write-audit-publish like ``blotter run``: the change is made in the build's
``ml`` schema (``audit_ml``, or on DuckDB the colour of ``ml`` not live, e.g. ``green_ml``), the
forecasting marts are rebuilt and tested in the build's marts, then ``marts`` and ``ml`` are
published, under the run lock and recorded in the run ledger. With ``--ml-schema`` naming
another (unpublished) schema they work on that schema directly and publish nothing. Every
command here takes ``--target`` (default ``BLOTTER_TARGET``) and works on that target's engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer

from engines.base import PUBLISHED_SCHEMAS, Engine
from engines.errors import TransientError
from orchestration import ledger
from orchestration.app import app, console, fail, model_app, settings_or_exit
from orchestration.commands.target import Target, engine_or_exit
from orchestration.errors import OperatorError, describe

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON line on stdout.")
]
MlSchema = Annotated[
    str,
    typer.Option(
        "--ml-schema",
        help="Schema of the ML tables; 'ml' (default) goes through audit -> publish, another "
        "schema is changed directly and nothing is published.",
    ),
]
PUBLISHED_ML = "ml"


def _warehouse(engine: Engine):  # noqa: ANN202  (lazy import: fast --help)
    from ml.warehouse import open_warehouse

    return open_warehouse(engine)


def _direct(command: str, ml_schema: str, target: str | None, action: Callable[[Any], Any]) -> Any:
    """Run ``action(ml_store)`` on an unpublished schema under the run lock (no ledger row)."""
    from orchestration import session

    if ml_schema in PUBLISHED_SCHEMAS:
        fail(f"--ml-schema {ml_schema} is a published schema; omit --ml-schema to publish")
    settings = settings_or_exit()
    engine = engine_or_exit(settings, target)
    try:
        with session.writing(command, settings, engine):
            return action(_warehouse(engine))
    except OperatorError as exc:
        fail(str(exc))
    except TransientError as exc:  # the warehouse is busy or unreachable: try again later
        fail(describe(exc), code=1)


def _published(command: str, target: str | None, steps: list, before: Callable[[Any], None]) -> Any:
    """Run a forecasting graph through audit -> publish of marts and ml (see module doc)."""
    from orchestration.dates import resolve_as_of
    from orchestration.launch import launch
    from orchestration.logs import configure_logging
    from orchestration.run import RunContext, new_run_id
    from orchestration.steps import ML_SCHEMAS

    settings = settings_or_exit()
    engine = engine_or_exit(settings, target)
    try:
        day = resolve_as_of(ledger.last_published_as_of(engine.ledger()), settings)
    except OperatorError as exc:
        fail(str(exc))
    configure_logging(settings.log_format, settings.secrets())
    ctx = RunContext(
        run_id=new_run_id(day),
        as_of=day,
        target=engine.target,
        settings=settings,
        log_format=settings.log_format,
        command=command,
        publish_schemas=ML_SCHEMAS,
        given_engine=engine,
    )
    launch(ctx, steps, before=lambda held: before(ctx))
    return ctx


@app.command("forecast")
def forecast_command(
    marts_schema: Annotated[
        str, typer.Option("--marts-schema", help="Schema of fct_incident_counts.")
    ] = "marts",
    ml_schema: MlSchema = PUBLISHED_ML,
    target: Target = None,
    as_json: JsonFlag = False,
) -> None:
    """Train, backtest, register and forecast every geography; publish through audit."""
    from ml.pipeline import PipelineError, run_pipeline
    from ml.registry import RegistryError
    from ml.warehouse import WarehouseError

    if ml_schema == PUBLISHED_ML:
        from orchestration.steps import forecast_steps, ml_warehouse

        def check_counts(ctx: Any) -> None:
            try:  # a wrong --marts-schema is the operator's mistake: exit 2, no ledger row
                ml_warehouse(ctx).read_counts(marts_schema)
            except WarehouseError as exc:
                raise OperatorError(str(exc)) from None

        counts = None if marts_schema == "marts" else marts_schema
        steps = forecast_steps(counts)
        out = _published("forecast", target, steps, check_counts).outputs["forecast"]
        console.print(
            f"[bold green]forecast[/] run {out['forecast_run_id']} ({out['model_version']}) -> "
            f"{out['model_status']}; {out['forecasts']:,} forecasts, published",
            highlight=False,
            soft_wrap=True,
        )
        if as_json:
            typer.echo(json.dumps(out, default=str))
        return

    def forecast(warehouse: Any) -> Any:
        return run_pipeline(
            warehouse,
            marts_schema=marts_schema,
            ml_schema=ml_schema,
            progress=lambda line: console.print(f"  {line}", highlight=False),
        )

    try:
        result = _direct("forecast", ml_schema, target, forecast)
    except (PipelineError, RegistryError, WarehouseError, ValueError) as exc:
        fail(str(exc))
    console.print(
        f"[bold green]forecast[/] run {result.run_id} ({result.model_version}) -> "
        f"{result.status}: {result.reason}; {result.forecasts:,} forecasts in "
        f"{result.seconds:.1f} s (written to {ml_schema}, not published)",
        highlight=False,
        soft_wrap=True,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), default=str))


@model_app.command("list")
def model_list(
    ml_schema: MlSchema = "ml", target: Target = None, as_json: JsonFlag = False
) -> None:
    """Show registered model runs, newest first."""
    from ml.registry import load_runs
    from ml.warehouse import WarehouseError

    engine = engine_or_exit(settings_or_exit(), target)
    try:
        runs = load_runs(_warehouse(engine), ml_schema)
    except (WarehouseError, TransientError) as exc:
        fail(describe(exc))
    cols = ["run_id", "model_version", "status", "data_cutoff", "score", "status_reason"]
    if as_json:
        typer.echo(runs[cols].to_json(orient="records", date_format="iso"))
        return
    if runs.empty:
        console.print("no model runs yet: run `blotter forecast`")
        return
    for _, row in runs[cols].iterrows():
        cutoff = str(row["data_cutoff"])[:10]
        score = (
            "n/a" if row["score"] is None or row["score"] != row["score"] else f"{row['score']:.4f}"
        )
        console.print(
            f"{row['run_id']}  {row['status']:<10} cutoff {cutoff}  score {score}  "
            f"{row['model_version']}  {row['status_reason']}",
            highlight=False,
            soft_wrap=True,
        )


def _registry_change(
    command: str, ml_schema: str, target: str | None, change: Callable[[Any, str], str]
) -> str:
    """Apply ``change(warehouse, schema)`` (returns a one-line outcome) to the registry.

    On the published registry the change is made in the build's ml and published with the
    rebuilt forecasting marts, so fct_forecasts serves the new champion at once.
    """
    from ml.registry import RegistryError
    from ml.warehouse import WarehouseError

    if ml_schema != PUBLISHED_ML:
        try:
            return _direct(command, ml_schema, target, lambda wh: change(wh, ml_schema))
        except (RegistryError, WarehouseError) as exc:
            fail(str(exc))

    from orchestration.steps import (
        ML_SCHEMAS,
        build_schema,
        drop_audit,
        ml_warehouse,
        prepare_audit,
        registry_steps,
    )

    outcome: dict[str, Any] = {}

    def before(ctx: Any) -> None:
        prepare_audit(ctx, ML_SCHEMAS)
        try:  # an unknown run id is the operator's mistake: exit 2, no ledger row
            outcome["registry"] = change(ml_warehouse(ctx), build_schema(ctx, "ml"))
        except (RegistryError, WarehouseError) as exc:
            drop_audit(ctx, ML_SCHEMAS)
            raise OperatorError(str(exc)) from None

    _published(command, target, registry_steps(lambda ctx: dict(outcome)), before)
    return outcome["registry"]


@model_app.command("approve")
def model_approve(
    run_id: Annotated[str, typer.Argument(help="Run to make champion.")],
    ml_schema: MlSchema = PUBLISHED_ML,
    target: Target = None,
) -> None:
    """Make a run the champion (the previous champion is retired) and publish its forecasts."""
    from ml.registry import approve
    from orchestration.launch import now_utc

    def change(warehouse: Any, schema: str) -> str:
        approve(warehouse, schema, run_id, now_utc())
        return f"{run_id} approved as champion"

    outcome = _registry_change("model approve", ml_schema, target, change)
    console.print(f"[bold green]approved[/]: {outcome}", highlight=False)


@model_app.command("rollback")
def model_rollback(ml_schema: MlSchema = PUBLISHED_ML, target: Target = None) -> None:
    """Demote the champion, restore the previous one and publish its forecasts."""
    from ml.registry import rollback
    from orchestration.launch import now_utc

    def change(warehouse: Any, schema: str) -> str:
        return f"{rollback(warehouse, schema, now_utc())} is champion again"

    outcome = _registry_change("model rollback", ml_schema, target, change)
    console.print(f"[bold green]rolled back[/]: {outcome}", highlight=False)
