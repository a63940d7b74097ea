"""Launching a step graph from a command: hold the warehouse, check the key, run, report.

``blotter run``, ``rekey``, ``forecast`` and ``model approve|rollback`` all end here, so each one
takes the run lock, refuses a changed pseudonym key, records itself in the ledger, notifies the
webhook, and ends with exit 0, or one error line and exit 1 (a failure) or 2 (an operator
mistake or refusal).

Environment variables read here: none (the settings are passed in).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from rich.table import Table

from engines.base import WarehouseError
from engines.errors import WarehouseBusy, WarehouseUnreachable
from orchestration import notify, session
from orchestration.app import console, fail
from orchestration.errors import OperatorError, describe, exit_code
from orchestration.run import RunContext, RunSummary, Step, execute

_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "skipped": "dim",
    "running": "yellow",
    "abandoned": "magenta",
}


def summary_table(summary: dict[str, Any]) -> Table:
    """The per-step table printed at the end of a run."""
    table = Table(
        title=f"{summary.get('command', 'run')} {summary['run_id']} · {summary['status']}",
        title_justify="left",
    )
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
    for note in summary.get("notes") or []:
        table.caption += f"\nnote: {note}"
    return table


def _unrecorded_failure(ctx: RunContext, exc: BaseException) -> NoReturn:
    """The command did not start (refused, or the warehouse cannot be opened): say so, exit 2
    or 1, and notify the webhook, except for the refusals of interactive commands (a mistyped
    run id needs no page; a refused scheduled ``run`` needs a person).

    A warehouse that cannot be opened cannot hold the ledger row either; the line says so.
    """
    if isinstance(exc, OperatorError):
        line = str(exc)
    elif isinstance(exc, WarehouseError | WarehouseBusy | WarehouseUnreachable):
        line = f"{describe(exc)} (this {ctx.command} is not in the run ledger, which lives there)"
    else:
        line = f"{ctx.command} could not start: {describe(exc)}"
    interactive_refusal = exit_code(exc) == 2 and ctx.command != "run"
    notify.notify_run(
        None if interactive_refusal else ctx.settings.notify_webhook,
        {
            "run_id": ctx.run_id,
            "command": ctx.command,
            "status": "refused" if exit_code(exc) == 2 else "failed",
            "as_of": ctx.as_of.isoformat(),
            "target": ctx.target,
            "steps": {},
            "error": line,
            "notes": ctx.notes,
        },
    )
    fail(line, code=exit_code(exc))


def launch(
    ctx: RunContext,
    steps: list[tuple[str, Step]],
    *,
    key_prefix: str | None = "",
    create_warehouse: bool = False,
    before: Callable[[session.WriterSession], None] | None = None,
    retries: int = 2,
    summary_file: str | None = None,
) -> RunSummary:
    """Run ``steps`` as ``ctx.command`` under the warehouse's lock; exit non-zero on failure.

    Args:
        ctx: the run context (its ``command`` names the ledger row and the lock holder).
        steps: the graph (``orchestration.steps``).
        key_prefix: dbt schema prefix whose marts must have been built with the current key
            ('' = the published marts); None skips the check (``blotter rekey``).
        create_warehouse: allow creating the warehouse's directory.
        before: runs under the lock before the ledger row (may raise OperatorError).
        retries: retries per step for transient failures.
        summary_file: also write the summary JSON there.
    """
    try:
        with session.writing(
            ctx.command, ctx.settings, ctx.engine, ctx.run_id, create_warehouse
        ) as held:
            ctx.notes.extend(held.notes)
            held.prepare_key(key_prefix)
            if before is not None:
                before(held)
            if ctx.log_format == "text":
                with console.status(f"{ctx.command} {ctx.run_id}") as status:
                    summary = execute(
                        ctx,
                        steps,
                        retries=retries,
                        on_step=lambda name, st: status.update(
                            f"{ctx.command} {ctx.run_id}: {name} {st}"
                        ),
                    )
            else:
                summary = execute(ctx, steps, retries=retries)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - a refusal, or a corrupt or foreign warehouse file
        _unrecorded_failure(ctx, exc)
    data = summary.to_dict()
    if ctx.log_format == "text":
        console.print(summary_table(data))
    if summary_file:
        with open(summary_file, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, default=str)
    if not summary.succeeded:
        code = exit_code(summary.failure) if summary.failure is not None else 1
        if ctx.log_format == "text":  # JSON logs already carry the error, one object per line
            label = "refused" if code == 2 else "failed"
            console.print(
                f"[bold red]{ctx.command} {label}:[/] {data['error']}",
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(code)
    return summary


def now_utc() -> datetime:
    """The current UTC time (naive, as the ML registry stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)
