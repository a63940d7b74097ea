"""``--target``, the same way for every command that touches the warehouse.

Each command takes ``--target`` (default ``BLOTTER_TARGET``) and builds its ONE engine here
(``orchestration.session.engine_of``); a bad target or incomplete BigQuery settings stop with
one line and exit 2 before anything is touched.
"""

from __future__ import annotations

from typing import Annotated

import typer

from engines.base import Engine
from orchestration.app import fail
from orchestration.settings import TARGETS, Settings

Target = Annotated[
    str | None,
    typer.Option("--target", help="dev, ci (DuckDB) or prod (BigQuery); default BLOTTER_TARGET."),
]


def target_or_exit(settings: Settings, target: str | None) -> str:
    """``target`` or ``BLOTTER_TARGET``, exiting 2 when it is not a known target."""
    chosen = target or settings.target
    if chosen not in TARGETS:
        fail(f"--target {chosen!r} is not one of {', '.join(TARGETS)}")
    return chosen


def engine_or_exit(settings: Settings, target: str | None) -> Engine:
    """The command's engine for ``target`` (see the module docstring)."""
    from orchestration.errors import is_operator_error
    from orchestration.session import engine_of

    chosen = target_or_exit(settings, target)
    try:
        return engine_of(settings, chosen)
    except ValueError as exc:  # DestinationError: a setting to fix
        if not is_operator_error(exc):
            raise
        fail(str(exc))
