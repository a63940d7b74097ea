"""P4 set-up: double the geographies of ``marts.fct_incident_counts`` in a warehouse copy.

Every non-city series gets a twin (``<geo> (twin)``) with the same counts, so the number of
series roughly doubles while their length stays the same. Prints the series count before/after.

Usage: ``python -m tests.bench.steps.double_geo --db PATH``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from tests.bench.proc import emit

_SERIES = (
    "select count(*) from (select distinct freq, geo_level, geo from marts.fct_incident_counts)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    con = duckdb.connect(str(args.db))
    before = con.execute(_SERIES).fetchone()[0]
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'fct_incident_counts' order by ordinal_position"
        ).fetchall()
    ]
    # Identifiers come from the catalog of our own table, never from data values.
    select = ", ".join("geo || ' (twin)'" if c == "geo" else f'"{c}"' for c in columns)
    con.execute(
        f"insert into marts.fct_incident_counts select {select} "  # noqa: S608
        "from marts.fct_incident_counts where geo_level <> 'city'"
    )
    after = con.execute(_SERIES).fetchone()[0]
    con.close()
    emit({"seconds": time.perf_counter() - started, "series_before": before, "series_after": after})


if __name__ == "__main__":
    main()
