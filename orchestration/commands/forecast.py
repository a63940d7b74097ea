"""``blotter forecast``, ``blotter forecast-file`` and ``blotter model list|approve|rollback``.

``forecast``, ``model approve`` and ``model rollback`` change what planners read, so by default
they go through write-audit-publish like ``blotter run``: the change is made in ``audit_ml``,
the forecasting marts are rebuilt and tested in ``audit_marts``, then ``marts`` and ``ml`` are
published, under the run lock and recorded in the run ledger. With ``--ml-schema`` naming
another (unpublished) schema they work on that schema directly and publish nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestration import ledger
from orchestration.app import app, console, fail, model_app, settings_or_exit
from orchestration.errors import OperatorError
from orchestration.publish import PUBLISHED_SCHEMAS
from orchestration.settings import Settings

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


def _warehouse(settings: Settings | None = None):  # noqa: ANN202  (lazy import: fast --help)
    from ml.warehouse import DuckDBWarehouse

    return DuckDBWarehouse((settings or settings_or_exit()).duckdb_path)


def _direct(command: str, ml_schema: str, action: Callable[[Settings], Any]) -> Any:
    """Run ``action`` on an unpublished schema, under the run lock (no ledger row, no publish)."""
    from orchestration import session

    if ml_schema in PUBLISHED_SCHEMAS:
        fail(f"--ml-schema {ml_schema} is a published schema; omit --ml-schema to publish")
    settings = settings_or_exit()
    try:
        with session.writing(command, settings):
            return action(settings)
    except OperatorError as exc:
        fail(str(exc))


def _published(command: str, steps: list, before: Callable[[Any], None]) -> Any:
    """Run a forecasting graph through audit -> publish of marts and ml (see module doc)."""
    from orchestration.dates import resolve_as_of
    from orchestration.launch import launch
    from orchestration.logs import configure_logging
    from orchestration.run import RunContext, new_run_id
    from orchestration.steps import ML_SCHEMAS

    settings = settings_or_exit()
    try:
        day = resolve_as_of(ledger.last_published_as_of(settings.duckdb_path), settings)
    except OperatorError as exc:
        fail(str(exc))
    configure_logging(settings.log_format, settings.secrets())
    ctx = RunContext(
        run_id=new_run_id(day),
        as_of=day,
        target=settings.target,
        settings=settings,
        log_format=settings.log_format,
        command=command,
        publish_schemas=ML_SCHEMAS,
    )
    launch(ctx, steps, before=lambda held: before(ctx))
    return ctx


@app.command("forecast")
def forecast_command(
    marts_schema: Annotated[
        str, typer.Option("--marts-schema", help="Schema of fct_incident_counts.")
    ] = "marts",
    ml_schema: MlSchema = PUBLISHED_ML,
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
        out = _published("forecast", forecast_steps(counts), check_counts).outputs["forecast"]
        console.print(
            f"[bold green]forecast[/] run {out['forecast_run_id']} ({out['model_version']}) -> "
            f"{out['model_status']}; {out['forecasts']:,} forecasts, published",
            highlight=False,
            soft_wrap=True,
        )
        if as_json:
            typer.echo(json.dumps(out, default=str))
        return

    def forecast(settings: Settings) -> Any:
        return run_pipeline(
            _warehouse(settings),
            marts_schema=marts_schema,
            ml_schema=ml_schema,
            progress=lambda line: console.print(f"  {line}", highlight=False),
        )

    try:
        result = _direct("forecast", ml_schema, forecast)
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


@app.command("forecast-file")
def forecast_file_command(
    history: Annotated[
        Path | None, typer.Option("--history", help="CSV: period_start,geo_level,geo,incidents.")
    ] = None,
    freq: Annotated[str | None, typer.Option("--freq", help="daily, weekly or monthly.")] = None,
    horizon: Annotated[
        str | None, typer.Option("--horizon", help="Periods ahead (<= 366 d / 53 w / 12 m).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output CSV path.")] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse missing periods instead of counting them as 0."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Forecast your own count history (CSV in, ml.forecasts columns out)."""
    from ml.forecast_file import ForecastInputError, check_request, forecast_file

    for name, value in (("--history", history), ("--freq", freq), ("--horizon", horizon)):
        if value is None:
            fail(f"{name} is required")
    if out is None:
        fail("--out is required")
    try:
        steps = int(str(horizon))
    except ValueError:
        fail(f"--horizon must be a whole number, got {horizon!r}")
    try:
        check_request(str(freq), steps)
        result = forecast_file(Path(str(history)), str(freq), steps, out, strict=strict)
    except ForecastInputError as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001  (never a traceback for a user's file)
        fail(f"forecasting {history} failed: {type(exc).__name__}: {exc}", code=1)
    summary = result.summary()
    for note in result.notes:
        console.print(f"  {note}", highlight=False, soft_wrap=True)
    console.print(
        f"[bold green]wrote[/] {len(result.forecasts):,} forecasts to {out} "
        f"(method {summary['method']}, backtest MASE {summary.get('mase')})",
        highlight=False,
        soft_wrap=True,
    )
    if as_json:
        typer.echo(
            json.dumps(
                {"out": str(out), "rows": len(result.forecasts), "filled": result.filled} | summary,
                default=str,
            )
        )


@model_app.command("list")
def model_list(ml_schema: MlSchema = "ml", as_json: JsonFlag = False) -> None:
    """Show registered model runs, newest first."""
    from ml.registry import load_runs
    from ml.warehouse import WarehouseError

    try:
        runs = load_runs(_warehouse(), ml_schema)
    except WarehouseError as exc:
        fail(str(exc))
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


def _registry_change(command: str, ml_schema: str, change: Callable[[Any, str], str]) -> str:
    """Apply ``change(warehouse, schema)`` (returns a one-line outcome) to the registry.

    On the published registry the change is made in ``audit_ml`` and published with the
    rebuilt forecasting marts, so fct_forecasts serves the new champion at once.
    """
    from ml.registry import RegistryError
    from ml.warehouse import WarehouseError

    if ml_schema != PUBLISHED_ML:
        try:
            return _direct(command, ml_schema, lambda s: change(_warehouse(s), ml_schema))
        except (RegistryError, WarehouseError) as exc:
            fail(str(exc))

    from orchestration.steps import (
        ML_SCHEMAS,
        drop_audit,
        ml_warehouse,
        prepare_audit,
        registry_steps,
    )

    outcome: dict[str, Any] = {}

    def before(ctx: Any) -> None:
        prepare_audit(ctx, ML_SCHEMAS)
        try:  # an unknown run id is the operator's mistake: exit 2, no ledger row
            outcome["registry"] = change(ml_warehouse(ctx), "audit_ml")
        except (RegistryError, WarehouseError) as exc:
            drop_audit(ctx, ML_SCHEMAS)
            raise OperatorError(str(exc)) from None

    _published(command, registry_steps(lambda ctx: dict(outcome)), before)
    return outcome["registry"]


@model_app.command("approve")
def model_approve(
    run_id: Annotated[str, typer.Argument(help="Run to make champion.")],
    ml_schema: MlSchema = PUBLISHED_ML,
) -> None:
    """Make a run the champion (the previous champion is retired) and publish its forecasts."""
    from ml.registry import approve
    from orchestration.launch import now_utc

    def change(warehouse: Any, schema: str) -> str:
        approve(warehouse, schema, run_id, now_utc())
        return f"{run_id} approved as champion"

    console.print(
        f"[bold green]approved[/]: {_registry_change('model approve', ml_schema, change)}",
        highlight=False,
    )


@model_app.command("rollback")
def model_rollback(ml_schema: MlSchema = PUBLISHED_ML) -> None:
    """Demote the champion, restore the previous one and publish its forecasts."""
    from ml.registry import rollback
    from orchestration.launch import now_utc

    def change(warehouse: Any, schema: str) -> str:
        return f"{rollback(warehouse, schema, now_utc())} is champion again"

    console.print(
        f"[bold green]rolled back[/]: {_registry_change('model rollback', ml_schema, change)}",
        highlight=False,
    )
