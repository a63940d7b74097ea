"""Run the ``blotter`` CLI, pausing at a named point inside one step of ``blotter run``.

The trust tests start this script as the process they SIGKILL, so that a kill lands inside the
named step every time, however short the step is (the publish transaction takes well under a
second). It patches one call inside the step, then runs the real CLI app unchanged::

    TRUST_HOLD_AT=publish TRUST_HOLD_DIR=/tmp/x python launcher.py run --as-of 2024-06-11

When the run reaches the point it writes ``$TRUST_HOLD_DIR/reached`` ("<point> <pid>") and waits
until ``$TRUST_HOLD_DIR/release`` exists: the test then either kills it or releases it (to hold
a run while a second one starts). A forgotten process gives up after ``TRUST_HOLD_SECONDS``.

Hold points (each in the middle of its step, after it has changed something):

- ``ingest``: dlt is extracting, the first page fetched, nothing loaded yet;
- ``build_warehouse``: dbt has built the build colour's ``fct_incidents``, the rest not yet;
- ``forecast``: the build's ``ml.forecasts`` is written, the performance and registry rows not;
- ``build_ml``: dbt has built the build's ``fct_forecasts``, its tests not yet;
- ``publish``: inside the publish transaction, staging, intermediate and marts replaced;
- ``docs``: ``dbt docs generate`` about to run (everything is published).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HOLD_POINTS = ("ingest", "build_warehouse", "forecast", "build_ml", "publish", "docs")
# dbt models whose completion marks the middle of the two dbt build steps.
_DBT_NODES = {"build_warehouse": "fct_incidents", "build_ml": "fct_forecasts"}


def hold(point: str) -> None:
    """Tell the test the point is reached, then wait for the release file (or a kill)."""
    folder = Path(os.environ["TRUST_HOLD_DIR"])
    reached = folder / "reached.tmp"
    reached.write_text(f"{point} {os.getpid()}", encoding="utf-8")
    os.replace(reached, folder / "reached")  # atomic: the test never reads half a line
    deadline = time.monotonic() + float(os.environ.get("TRUST_HOLD_SECONDS", "600"))
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            os._exit(70)  # the test is gone: do not finish a run nobody checks
        time.sleep(0.02)


def _hold_in_ingest() -> None:
    import ingestion.pipeline as pipeline

    original = pipeline.progress_line

    @contextlib.contextmanager
    def progress_line(show: bool, source: str) -> Iterator[Callable[[str], None]]:
        with original(show, source) as say:

            def on_message(message: str) -> None:
                say(message)
                if message.startswith("fetched"):  # called by dlt's extract after each page
                    hold("ingest")

            yield on_message

    pipeline.progress_line = progress_line


def _hold_in_dbt(point: str) -> None:
    import orchestration.dbt_invoke as dbt_invoke

    original = dbt_invoke.run_dbt
    node = _DBT_NODES.get(point)

    def on_event(event: Any) -> None:
        if event.info.name == "NodeFinished":
            info = event.data.node_info
            if info.node_name == node and info.resource_type == "model":
                hold(point)

    def run_dbt(command: str, **kwargs: Any) -> Any:
        if point == "docs" and command == "docs generate":
            hold(point)
        if node is not None:
            kwargs["callbacks"] = [*kwargs.get("callbacks", ()), on_event]
        return original(command, **kwargs)

    dbt_invoke.run_dbt = run_dbt


def _hold_in_forecast() -> None:
    from engines.duckdb.ml_store import DuckDBMLStore

    original = DuckDBMLStore.replace_rows

    def replace_rows(self: DuckDBMLStore, frame: Any, schema: str, table: str, keys: Any) -> int:
        written = original(self, frame, schema, table, keys)
        if table == "forecasts":
            hold("forecast")
        return written

    DuckDBMLStore.replace_rows = replace_rows  # type: ignore[method-assign]


def _hold_in_publish() -> None:
    import engines.duckdb.publish as wap

    original = wap.publish

    def publish(*args: Any, **kwargs: Any) -> Any:
        def on_schema(schema: str) -> None:
            if schema == "marts":
                hold("publish")

        return original(*args, **{**kwargs, "on_schema": on_schema})

    wap.publish = publish


def install(point: str) -> None:
    """Patch the call where ``point`` holds (see the module docstring)."""
    if point not in HOLD_POINTS:
        raise SystemExit(f"TRUST_HOLD_AT={point!r} is not one of {', '.join(HOLD_POINTS)}")
    if point == "ingest":
        _hold_in_ingest()
    elif point == "forecast":
        _hold_in_forecast()
    elif point == "publish":
        _hold_in_publish()
    else:
        _hold_in_dbt(point)


def main() -> None:
    """Install the hold point (if any) and run the CLI with this script's arguments."""
    if point := os.environ.get("TRUST_HOLD_AT"):
        install(point)
    from orchestration.cli import app

    app(args=sys.argv[1:], prog_name="blotter")


if __name__ == "__main__":
    main()
