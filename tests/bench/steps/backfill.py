"""P1: backfill (or next-day ingest) from a replay API URL into raw DuckDB via the real pipeline.

Usage: ``python -m tests.bench.steps.backfill --url URL --db PATH --start D0 --as-of D
[--incremental] [--profile OUT]``
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from tests.bench.proc import emit
from tests.bench.steps.profiling import maybe_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--incremental", action="store_true", help="no full refresh")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()

    from engines.base import landing_state_dir
    from engines.duckdb import DuckDBEngine
    from ingestion.pipeline import ingest

    started = time.perf_counter()
    with maybe_profile(args.profile), DuckDBEngine(args.db).landing() as destination:
        result = ingest(
            source_url=args.url,
            state_dir=landing_state_dir(args.db),
            destination=destination,
            start_date=args.start,
            as_of=args.as_of,
            full_refresh=not args.incremental,
            show_progress=False,
        )
    seconds = time.perf_counter() - started
    emit({**result.to_dict(), "seconds": seconds, "phases": _phases(args.db)})


def _phases(db: Path) -> dict[str, float]:
    """Seconds of dlt's extract / normalize / load in the run just made (from its trace)."""
    import dlt

    from engines.base import landing_state_dir
    from ingestion.pipeline import PIPELINE_NAME

    pipeline = dlt.attach(PIPELINE_NAME, pipelines_dir=str(landing_state_dir(db)))
    trace = pipeline.last_trace
    if trace is None:
        return {}
    return {
        step.step: round((step.finished_at - step.started_at).total_seconds(), 2)
        for step in trace.steps
        if step.finished_at is not None
    }


if __name__ == "__main__":
    main()
