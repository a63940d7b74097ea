"""A one-line live status of an ingest on stderr (plain lines when stderr is not a terminal).

Environment variables read here: none of Blotter's; rich honours ``NO_COLOR``, ``TERM`` and
``COLUMNS``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def progress_line(show: bool, source: str) -> Iterator[Any]:
    """A one-line live status on stderr; yields a ``(message) -> None`` updater."""
    if not show:
        yield lambda _message: None
        return
    console = Console(stderr=True)
    if not console.is_terminal:  # CI logs: plain lines instead of a live display
        yield lambda message: console.print(f"ingest: {message}", highlight=False)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"fetching {source}")
        yield lambda message: progress.update(task, description=message)
