"""Show a dbt run with rich: a live line per finished node and a summary table of the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from orchestration.dbt_runner import TEST_TYPES, DbtRunResult


def progress_callback(console: Console) -> Callable[[Any], None]:
    """A dbt event callback that prints one status line per finished node."""
    styles = {"pass": "green", "success": "green", "warn": "yellow", "fail": "red"}
    styles |= {"error": "red", "skipped": "dim"}

    def on_event(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        info = event.data.node_info
        status = info.node_status
        console.print(
            f"[{styles.get(status, 'white')}]{status:>7}[/] {info.resource_type} {info.node_name}",
            highlight=False,
        )

    return on_event


def print_summary(result: DbtRunResult, console: Console, *, show_passed: bool = False) -> None:
    """Render a rich table of the run (failures and warnings first) and a one-line total."""
    table = Table(title=f"dbt {result.command}", show_lines=False)
    for column in ("status", "type", "name", "rows", "s"):
        table.add_column(column, justify="right" if column in ("rows", "s") else "left")
    order = {"error": 0, "fail": 1, "warn": 2}
    shown = [n for n in result.nodes if show_passed or n.status in order]
    for n in sorted(shown, key=lambda n: (order.get(n.status, 3), n.resource_type, n.name)):
        colour = {"error": "red", "fail": "red", "warn": "yellow"}.get(n.status, "green")
        rows = "" if n.rows is None else f"{n.rows:,}"
        table.add_row(f"[{colour}]{n.status}[/]", n.resource_type, n.name, rows, f"{n.seconds:.2f}")
    if shown:
        console.print(table)
    built = sum(1 for n in result.nodes if n.resource_type not in TEST_TYPES)
    verdict = "[bold green]ok[/]" if result.success else "[bold red]failed[/]"
    console.print(
        f"dbt {result.command} {verdict}: {built} nodes built, {result.tests_passed} tests "
        f"passed, {result.tests_warned} warned, {result.tests_failed} failed "
        f"in {result.seconds:.1f} s",
        highlight=False,
    )
    if result.error:
        console.print(f"[red]{result.error}[/]", highlight=False, soft_wrap=True)
