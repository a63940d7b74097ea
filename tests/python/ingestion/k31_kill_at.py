"""Ingest into a DuckDB file and SIGKILL the process at a point (run as a script by test_k31).

Usage: k31_kill_at.py URL DB START AS_OF POINT, POINT one of
    inserted:<table>  right after dlt's DuckDB copy job for <table> committed its insert,
                      before dlt marks the job done (the at-least-once window);
    recorded          right after dlt recorded the load in _dlt_loads, before it filed the
                      package as loaded;
    repair            after the pending load was finished, before its copies are removed.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import date
from pathlib import Path

from engines.base import landing_state_dir
from engines.duckdb import DuckDBEngine
from ingestion.pipeline import ingest


def die(*_: object, **__: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    """Patch the code at ``point`` to kill this process there."""
    if point.startswith("inserted:"):
        from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

        table, run = point.partition(":")[2], DuckDbCopyJob.run

        def run_then_die(self: DuckDbCopyJob) -> None:
            run(self)
            if self.load_table_name == table:
                die()

        DuckDbCopyJob.run = run_then_die  # type: ignore[method-assign]
    elif point == "recorded":
        from dlt.destinations.job_client_impl import SqlJobClientBase

        complete = SqlJobClientBase.complete_load

        def complete_then_die(self: SqlJobClientBase, load_id: str) -> None:
            complete(self, load_id)
            die()

        SqlJobClientBase.complete_load = complete_then_die  # type: ignore[method-assign]
    elif point == "repair":
        import ingestion.recovery

        ingestion.recovery._remove_copies = die  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown point {point}")


if __name__ == "__main__":
    url, db, start, as_of, point = sys.argv[1:]
    arm(point)
    path = Path(db)
    with DuckDBEngine(path).landing() as destination:
        ingest(
            url,
            landing_state_dir(path),
            date.fromisoformat(start),
            as_of=date.fromisoformat(as_of),
            destination=destination,
            show_progress=False,
        )
    sys.exit(3)  # the point was never reached: the test must not pass for the wrong reason
