"""P4: train + backtest + forecast every series at every frequency (``ml.pipeline``).

Reads ``marts`` of the given warehouse and writes ``ml`` (as ``blotter forecast`` does).

Usage: ``python -m tests.bench.steps.ml --db PATH --as-of D [--profile OUT]``
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
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()

    from engines.duckdb import DuckDBEngine
    from ml.pipeline import run_pipeline
    from ml.warehouse import open_warehouse

    started = time.perf_counter()
    with maybe_profile(args.profile):
        result = run_pipeline(
            open_warehouse(DuckDBEngine(args.db)),
            marts_schema="marts",
            ml_schema="ml",
            as_of=args.as_of,
        )
    seconds = time.perf_counter() - started
    emit({"seconds": seconds, "forecasts": result.forecasts, "status": result.status})


if __name__ == "__main__":
    main()
