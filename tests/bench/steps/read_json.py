"""The physical limit of P1: DuckDB reading the saved JSON pages into a table on disk.

Usage: ``python -m tests.bench.steps.read_json --pages DIR --db PATH``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from tests.bench.proc import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()

    args.db.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(args.db))
    con.execute("create schema raw")
    # Same landing as the backfill: one table on disk from every page; keys missing in some
    # records are unioned by name.
    con.execute(
        "create table raw.incidents as select * from read_json(?, format = 'array', "
        "union_by_name = true)",
        [str(args.pages / "page-*.json")],
    )
    con.execute("checkpoint")
    rows = con.execute("select count(*) from raw.incidents").fetchone()[0]
    con.close()
    emit({"seconds": time.perf_counter() - started, "rows": rows})


if __name__ == "__main__":
    main()
