"""``blotter run`` (the daily pipeline) and ``blotter runs`` (the run ledger)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from orchestration import ledger
from orchestration.app import AsOf, app, as_of_or_exit, console, fail, settings_or_exit
from orchestration.logs import LOG_FORMATS, configure_logging
from orchestration.settings import DEV_PSEUDONYM_KEY, TARGETS, secret_values

_STYLE = {"succeeded": "green", "failed": "red", "skipped": "dim", "running": "yellow"}


def _summary_table(summary: dict) -> Table:
    table = Table(title=f"run {summary['run_id']} · {summary['status']}", title_justify="left")
    table.add_column("step", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("attempts", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("detail", overflow="fold")
    for name, step in summary["steps"].items():
        status = step.get("status", "?")
        detail = " ".join(step.get("error", "").split())[:200] if status == "failed" else ""
        table.add_row(
            name,
            f"[{_STYLE.get(status, 'white')}]{status}[/]",
            str(step.get("attempts", "")),
            str(step.get("seconds", "")),
            detail,
        )
    table.caption = (
        f"fetched {summary['rows_fetched']} · loaded {summary['rows_loaded']} · "
        f"rejected {summary['rows_rejected']} · tests passed {summary['tests_passed']} · "
        f"failed {summary['tests_failed']}"
    )
    return table


@app.command("run")
def run_command(
    as_of: AsOf = None,
    target: Annotated[
        str | None, typer.Option("--target", help="dbt target: dev, ci or prod.")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="text or json (structured, one per line).")
    ] = None,
    summary_file: Annotated[
        str | None, typer.Option("--summary-file", help="Also write the run summary JSON here.")
    ] = None,
    retries: Annotated[int, typer.Option(min=0, max=10, help="Retries per step.")] = 2,
) -> None:
    """Ingest → build and test in audit schemas → forecast → publish → docs; exit 1 on failure."""
    settings = settings_or_exit()
    day = as_of_or_exit(as_of) or date.today()
    chosen_target = target or settings.target
    if chosen_target not in TARGETS:
        fail(f"--target {chosen_target!r} is not one of {', '.join(TARGETS)}")
    fmt = log_format or settings.log_format
    if fmt not in LOG_FORMATS:
        fail(f"--log-format {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    if chosen_target == "prod" and settings.pseudonym_key == DEV_PSEUDONYM_KEY:
        fail("prod needs BLOTTER_PSEUDONYM_KEY (the development key is refused)")
    configure_logging(fmt, secret_values())

    from orchestration.run import RunContext, execute, new_run_id
    from orchestration.steps import default_steps

    ctx = RunContext(
        run_id=new_run_id(day), as_of=day, target=chosen_target, settings=settings, log_format=fmt
    )
    try:
        if fmt == "text":
            with console.status(f"run {ctx.run_id}") as status:
                summary = execute(
                    ctx,
                    default_steps(),
                    retries=retries,
                    on_step=lambda name, st: status.update(f"run {ctx.run_id}: {name} {st}"),
                )
            console.print(_summary_table(summary.to_dict()))
        else:
            summary = execute(ctx, default_steps(), retries=retries)
    except duckdb.Error as exc:  # the ledger itself is unreachable (e.g. the file is locked)
        fail(f"cannot write the run ledger in {settings.duckdb_path}: {exc}".splitlines()[0])
    data = summary.to_dict()
    if summary_file:
        with open(summary_file, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, default=str)
    if not summary.succeeded:
        if fmt == "text":
            console.print(f"[bold red]run failed:[/] {data['error']}", highlight=False)
        raise typer.Exit(1)


@app.command("runs")
def runs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list on stdout.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many runs.")] = 20,
) -> None:
    """Show recent runs from the run ledger (newest first)."""
    settings = settings_or_exit()
    try:
        runs = ledger.recent(settings.duckdb_path, limit)
    except duckdb.Error as exc:
        fail(f"cannot read the run ledger in {settings.duckdb_path}: {exc}".splitlines()[0])
    if as_json:
        typer.echo(json.dumps(runs, indent=2, default=str))
        return
    table = Table(title=f"last {len(runs)} run(s)", title_justify="left")
    for col in ("run_id", "as_of", "target", "status", "fetched", "loaded", "tests"):
        table.add_column(col, no_wrap=True)
    table.add_column("error", no_wrap=True, overflow="ellipsis", max_width=40)
    for run in runs:
        tests = f"{run['tests_passed'] or 0}/{run['tests_failed'] or 0}"
        table.add_row(
            run["run_id"],
            run["as_of"],
            run["target"],
            f"[{_STYLE.get(run['status'], 'white')}]{run['status']}[/]",
            str(run["rows_fetched"]),
            str(run["rows_loaded"]),
            tests,
            (run["error"] or "")[:80],
        )
    # At least 160 columns when stdout is not a terminal, so piped output stays readable.
    out = Console()
    if not out.is_terminal:
        out = Console(width=max(out.width, 160))
    out.print(table)
