"""``blotter forecast``, ``blotter forecast-file`` and ``blotter model list|approve|rollback``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from orchestration.app import app, console, fail, model_app, settings_or_exit

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON line on stdout.")
]
MlSchema = Annotated[str, typer.Option("--ml-schema", help="Schema of the ML tables.")]


def _warehouse():  # noqa: ANN202  (lazy import keeps `blotter --help` fast)
    from ml.warehouse import DuckDBWarehouse

    return DuckDBWarehouse(settings_or_exit().duckdb_path)


@app.command("forecast")
def forecast_command(
    marts_schema: Annotated[
        str, typer.Option("--marts-schema", help="Schema of fct_incident_counts.")
    ] = "marts",
    ml_schema: MlSchema = "ml",
    as_json: JsonFlag = False,
) -> None:
    """Train, backtest, register and forecast every geography at every frequency."""
    from ml.pipeline import PipelineError, run_pipeline
    from ml.registry import RegistryError
    from ml.warehouse import WarehouseError

    try:
        result = run_pipeline(
            _warehouse(),
            marts_schema=marts_schema,
            ml_schema=ml_schema,
            progress=lambda line: console.print(f"  {line}", highlight=False),
        )
    except (PipelineError, RegistryError, WarehouseError, ValueError) as exc:
        fail(str(exc))
    console.print(
        f"[bold green]forecast[/] run {result.run_id} ({result.model_version}) -> "
        f"{result.status}: {result.reason}; {result.forecasts:,} forecasts in "
        f"{result.seconds:.1f} s",
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


@model_app.command("approve")
def model_approve(
    run_id: Annotated[str, typer.Argument(help="Run to make champion.")],
    ml_schema: MlSchema = "ml",
) -> None:
    """Make a run the champion (the previous champion is retired)."""
    from ml.registry import RegistryError, approve
    from ml.warehouse import WarehouseError

    try:
        approve(_warehouse(), ml_schema, run_id, datetime.now(UTC).replace(tzinfo=None))
    except (RegistryError, WarehouseError) as exc:
        fail(str(exc))
    console.print(f"[bold green]approved[/] {run_id} as champion", highlight=False)


@model_app.command("rollback")
def model_rollback(ml_schema: MlSchema = "ml") -> None:
    """Demote the champion and restore the previous one."""
    from ml.registry import RegistryError, rollback
    from ml.warehouse import WarehouseError

    try:
        restored = rollback(_warehouse(), ml_schema, datetime.now(UTC).replace(tzinfo=None))
    except (RegistryError, WarehouseError) as exc:
        fail(str(exc))
    console.print(f"[bold green]rolled back[/]: {restored} is champion again", highlight=False)
