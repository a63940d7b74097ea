"""``blotter run`` (the daily pipeline), ``blotter rekey`` and ``blotter runs`` (the ledger).

Each takes ``--target`` (default ``BLOTTER_TARGET``) and works on that target's engine.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engines.base import Engine, WarehouseError
from engines.errors import TransientError
from orchestration import ledger, lock
from orchestration.app import AsOf, app, as_of_or_exit, fail, settings_or_exit
from orchestration.commands.target import Target, engine_or_exit
from orchestration.errors import OperatorError, describe
from orchestration.logs import LOG_FORMATS, configure_logging
from orchestration.settings import Settings

_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "abandoned": "magenta",
}
CreateWarehouse = Annotated[
    bool,
    typer.Option(
        "--create-warehouse",
        help="Allow creating BLOTTER_DUCKDB_PATH's directory (a new warehouse backfills).",
    ),
]
LogFormat = Annotated[
    str | None, typer.Option("--log-format", help="text or json (structured, one per line).")
]
SummaryFile = Annotated[
    str | None, typer.Option("--summary-file", help="Also write the run summary JSON here.")
]
Retries = Annotated[int, typer.Option(min=0, max=10, help="Retries per step.")]
NoDocs = Annotated[
    bool,
    typer.Option(
        "--no-docs",
        help="Leave out the docs step (dbt docs generate): for runs whose docs site "
        "nobody reads; the published data is the same.",
    ),
]


def _options(settings: Settings, target: str | None, log_format: str | None) -> tuple[Engine, str]:
    engine = engine_or_exit(settings, target)
    fmt = log_format or settings.log_format
    if fmt not in LOG_FORMATS:
        fail(f"--log-format {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    configure_logging(fmt, settings.secrets())
    return engine, fmt


def _as_of(settings: Settings, requested: date | None) -> date:
    from orchestration.dates import resolve_as_of

    try:
        return resolve_as_of(requested, settings)
    except OperatorError as exc:
        fail(str(exc))


def _not_before_published(day: date, engine: Engine) -> None:
    """Under the run lock: refuse an as-of before the last published one (exit 2)."""
    from orchestration.dates import check_not_before_published

    check_not_before_published(day, ledger.last_published_as_of(engine.ledger()))


@app.command("run")
def run_command(
    as_of: AsOf = None,
    target: Target = None,
    log_format: LogFormat = None,
    summary_file: SummaryFile = None,
    retries: Retries = 2,
    create_warehouse: CreateWarehouse = False,
    no_docs: NoDocs = False,
) -> None:
    """Ingest → build and test in audit schemas → forecast → publish → docs; exit 1 on failure.

    The as-of defaults to today in the dataset's timezone and may not lie after it.
    ``--no-docs`` ends the run after publish (the docs site stays as the last run left it).
    """
    settings = settings_or_exit()
    day = _as_of(settings, as_of_or_exit(as_of, settings))
    engine, fmt = _options(settings, target, log_format)

    from orchestration.launch import launch
    from orchestration.run import RunContext, new_run_id
    from orchestration.steps import default_steps

    ctx = RunContext(
        run_id=new_run_id(day),
        as_of=day,
        target=engine.target,
        settings=settings,
        log_format=fmt,
        given_engine=engine,
    )
    launch(
        ctx,
        default_steps(docs=not no_docs),
        before=lambda _held: _not_before_published(day, engine),
        create_warehouse=create_warehouse,
        retries=retries,
        summary_file=summary_file,
    )


@app.command("rekey")
def rekey_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Data cutoff of the rebuild (default: the as-of of the last published run).",
        ),
    ] = None,
    target: Target = None,
    log_format: LogFormat = None,
    summary_file: SummaryFile = None,
) -> None:
    """Rebuild every table with the current BLOTTER_PSEUDONYM_KEY and source profile; publish.

    After a key rotation or a source-profile edit: a full-refresh dbt build in the audit
    schemas, forecasts, every test, then publish; the published incident ids all change to the
    new key's, and rows built before a profile edit follow it.
    """
    settings = settings_or_exit()
    engine, fmt = _options(settings, target, log_format)
    requested = as_of_or_exit(as_of, settings) or ledger.last_published_as_of(engine.ledger())
    day = _as_of(settings, requested)

    from orchestration.launch import launch
    from orchestration.run import RunContext, new_run_id
    from orchestration.steps import rekey_steps

    ctx = RunContext(
        run_id=new_run_id(day),
        as_of=day,
        target=engine.target,
        settings=settings,
        log_format=fmt,
        command="rekey",
        full_refresh=True,
        given_engine=engine,
    )
    launch(
        ctx,
        rekey_steps(),
        key_prefix=None,
        before=lambda _held: _not_before_published(day, engine),
        summary_file=summary_file,
    )


def _live_view(runs: list[dict], engine: Engine) -> list[dict]:
    """Show a ``running`` row whose process is gone as abandoned, before any run reconciles it."""
    if not any(r["status"] == "running" for r in runs) or lock.is_held(engine.local_path):
        return runs
    for run in runs:
        if run["status"] == "running":
            run["status"] = "abandoned"
            run["error"] = (
                f"process {run.get('pid')} on {run.get('host')} ended without finishing "
                "(killed?); the next run records it"
            )
    return runs


@app.command("runs")
def runs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list on stdout.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many runs.")] = 20,
    target: Target = None,
) -> None:
    """Show recent runs from the run ledger (newest first), with their notes (e.g. drift)."""
    engine = engine_or_exit(settings_or_exit(), target)
    store = engine.ledger()
    try:
        runs = _live_view(ledger.recent(store, limit), engine)
    except (WarehouseError, TransientError) as exc:
        fail(f"cannot read the run ledger in {store.where}: {describe(exc)}")
    if as_json:
        typer.echo(json.dumps(runs, indent=2, default=str))
        return
    table = Table(title=f"last {len(runs)} run(s)", title_justify="left")
    for col in ("run_id", "command", "as_of", "target", "status", "fetched", "loaded", "tests"):
        table.add_column(col, no_wrap=True)
    table.add_column("error / notes", overflow="fold", max_width=80)
    for run in runs:
        tests = f"{run['tests_passed'] or 0}/{run['tests_failed'] or 0}"
        detail = [(run["error"] or "")[:200]] if run["error"] else []
        detail += [f"note: {n}" for n in run.get("notes") or []]
        table.add_row(
            run["run_id"],
            run.get("command") or "run",
            run["as_of"],
            run["target"],
            f"[{_STYLE.get(run['status'], 'white')}]{run['status']}[/]",
            str(run["rows_fetched"]),
            str(run["rows_loaded"]),
            tests,
            "\n".join(detail),
        )
    # At least 160 columns when stdout is not a terminal, so piped output stays readable.
    out = Console()
    if not out.is_terminal:
        out = Console(width=max(out.width, 200))
    out.print(table)
