"""P3 reference: DuckDB copying ``raw.incidents`` once (one scan + one write of the data).

It is the least work any build over the raw table can do on this machine. The copy is dropped
afterwards so the warehouse is left as it was.

Usage: ``python -m tests.bench.steps.copy_raw --db PATH``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from tests.bench.proc import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    con = duckdb.connect(str(args.db))
    con.execute("create or replace table main.bench_raw_copy as select * from raw.incidents")
    con.execute("checkpoint")
    seconds = time.perf_counter() - started
    rows = con.execute("select count(*) from main.bench_raw_copy").fetchone()[0]
    con.execute("drop table main.bench_raw_copy")
    con.execute("checkpoint")
    con.close()
    emit({"seconds": seconds, "rows": rows})


if __name__ == "__main__":
    main()
