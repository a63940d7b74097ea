"""``blotter forecast-file``: forecast a count history from a CSV (no warehouse involved)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from orchestration.app import app, console, fail
from orchestration.commands.forecast import JsonFlag


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
