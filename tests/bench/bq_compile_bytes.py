"""Bytes of the queries dbt's macros run while compiling, which ``run_results.json`` lacks.

``bq_bytes`` estimates each node from its compiled SQL. Macros also query the warehouse while a
node compiles (the daily tests' window bounds, the per-load counts of staging's tests, the
source profile), and on BigQuery each is a billed query (at least 10 MB per table). dbt logs
every statement it sends as a ``SQLQuery`` event; with a JSON file log at debug level
(``DBT_LOG_FORMAT_FILE=json DBT_LOG_LEVEL_FILE=debug``) this module finds the selects that are
not a node's own statement and prices them with ``bq_bytes``'s rules.

``python -m tests.bench.bq_compile_bytes WAREHOUSE.duckdb TARGET_DIR DBT_LOG`` prints them.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb

from tests.bench.bq_bytes import MIN_PER_TABLE, Scan, Warehouse, query_scans

_COMMENT = re.compile(r"^/\*.*?\*/\s*", re.S)
# dbt-duckdb's catalog reads; dbt-bigquery asks the API for these instead (not billed).
_METADATA = ("information_schema", "duckdb_", "column_type as data_type", "select version()")


def _statements(log: Path) -> Iterator[tuple[str, str]]:
    """(node unique id, SQL) of every statement the log records, in order."""
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event.get("info", {}).get("name") != "SQLQuery":
            continue
        data = event.get("data", {})
        node = (data.get("node_info") or {}).get("unique_id") or data.get("conn_name", "")
        yield node, _COMMENT.sub("", data.get("sql", "")).strip()


def _kind(sql: str) -> str:
    """A short label for what a compile-time query is for."""
    low = sql.lower()
    if "source_profile" in low:
        return "source profile"
    if low.startswith("select max("):
        return "window: newest :updated_at"
    if low.startswith("select min("):
        return "window: oldest load"
    if "landed_rows" in low:
        return "per-load counts"
    return "other"


def compile_time_scans(db: Path, target: Path, log: Path) -> tuple[list[tuple[str, Scan]], int]:
    """The scans of every compile-time select, labelled by kind, and how many were skipped
    because DuckDB could not plan them (metadata of a node's temporary relation)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    own = {r["unique_id"]: (r.get("compiled_code") or "").strip() for r in results}
    con = duckdb.connect(str(db), read_only=True)
    wh = Warehouse(con)
    scans: list[tuple[str, Scan]] = []
    skipped = 0
    for node, sql in _statements(log):
        low = sql.lower()
        if node.startswith("unit_test.") or not low.startswith(("select", "with")):
            continue  # unit tests do not run on prod; DDL and DML are the nodes' own work
        if any(m in low for m in _METADATA) or "dbt_internal_test" in low:
            continue
        if own.get(node) and own[node] in sql:
            continue  # the node's own query, already in bq_bytes' estimate
        try:
            found = query_scans(wh, sql)
        except duckdb.Error:
            skipped += 1
            continue
        scans += [(_kind(sql), s) for s in found]
    con.close()
    return scans, skipped


def billed(scans: list[tuple[str, Scan]], factor: float = 1.0) -> Counter[str]:
    """Bytes by kind; ``factor`` scales the scans of per-incident tables."""
    out: Counter[str] = Counter()
    for kind, s in scans:
        out[kind] += max(MIN_PER_TABLE, round(s.bytes * (factor if s.per_incident else 1)))
    return out


def main(argv: list[str]) -> None:
    db, target, log = Path(argv[0]), Path(argv[1]), Path(argv[2])
    scans, skipped = compile_time_scans(db, target, log)
    con = duckdb.connect(str(db), read_only=True)
    incidents = Warehouse(con).incidents or 1  # as bq_bytes scales: rows of raw.incidents
    con.close()
    print(f"{len(scans)} compile-time scans ({skipped} statements DuckDB could not plan)")
    for size in (incidents, 1_000_000, 10_000_000):
        by_kind = billed(scans, size / incidents)
        parts = ", ".join(f"{k} {v / 2**30:.2f}" for k, v in by_kind.most_common())
        print(f"{size:>11,} incidents: {sum(by_kind.values()) / 2**30:.2f} GiB ({parts})")


if __name__ == "__main__":
    main(sys.argv[1:])
