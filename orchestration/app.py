"""The shared typer app and the helpers every ``blotter`` command uses.

Commands live in ``orchestration/commands/<area>.py``; ``orchestration/cli.py`` imports them all.
Every command turns a bad setting or bad input into one clear error line and exit code 2.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from orchestration.settings import Settings, SettingsError, load_settings, parse_date

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Blotter: public-safety incident warehouse (dlt -> dbt -> forecasts).",
)
model_app = typer.Typer(no_args_is_help=True, help="Inspect and override the model registry.")
app.add_typer(model_app, name="model")

# Progress and messages go to stderr so that `--json` output on stdout stays machine-readable.
console = Console(stderr=True)

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Pretend today is this date (YYYY-MM-DD).")
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one error line (no traceback) and exit with ``code``."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: str) -> Settings:
    """Load settings (``overrides`` are extra ``BLOTTER_*`` values), exiting 2 when invalid."""
    try:
        return load_settings(overrides=overrides)
    except SettingsError as exc:
        fail(str(exc))


def as_of_or_exit(raw: str | None, settings: Settings | None = None) -> date | None:
    """Parse an ``--as-of`` option, exiting 2 when it is not a date or lies in the future.

    "Future" means after today in the dataset's timezone (``orchestration.dates``). Returns
    None when the option was not given.
    """
    from orchestration.dates import check_not_future
    from orchestration.errors import OperatorError

    if not raw:
        return None
    try:
        day = parse_date("--as-of", raw)
    except SettingsError as exc:
        fail(str(exc))
    try:
        check_not_future(day, settings or settings_or_exit())
    except OperatorError as exc:
        fail(str(exc))
    return day
