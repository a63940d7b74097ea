"""What a dbt build would scan on BigQuery (on-demand bytes billed), computed on the DuckDB twin.

The emulator reports 0 bytes processed, so the figure is computed instead, from what BigQuery
documents as billed: the logical bytes of every column a query reads (STRING/BYTES 2 + their
UTF-8 length, INT64/FLOAT64/DATE/TIMESTAMP 8, BOOL 1, NUMERIC 16, NULL 0), at least 10 MB per
table a query references. For each node of ``run_results.json`` (models, snapshots, tests; unit
tests are skipped, as ``--target prod`` skips them) DuckDB's plan of the node's compiled SQL
names the tables and columns scanned (views expanded, filter columns included). A ``merge``
(incremental models, snapshots) also reads its target table's columns.

Not modelled, so the figure is an upper bound: partition pruning (no daily query filters on a
partition column with a constant) and BigQuery's clustering. ``python -m tests.bench.bq_bytes
WAREHOUSE.duckdb TARGET_DIR`` prints the estimate of one build.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

MIN_PER_TABLE = 10 * 1024**2  # BigQuery's on-demand minimum per referenced table
FIXED = {"BOOLEAN": 1, "DECIMAL": 16, "HUGEINT": 16, "UUID": 16}  # other scalars: 8
VARIABLE = ("VARCHAR", "BLOB", "JSON")
MERGED = ("incremental", "snapshot")
INCIDENT_KEYS = {"record_key", "incident_id"}


@dataclass(frozen=True)
class Scan:
    """One table read by one query: the bytes of the columns read, and whether the table has
    a row per incident (so its scans grow with the history) or per period and geography."""

    table: str
    bytes: int
    per_incident: bool


@dataclass
class Estimate:
    """Bytes one build would be billed on BigQuery, by node, and the incidents it was run on."""

    incidents: int
    nodes: dict[str, list[Scan]] = field(default_factory=dict)

    def billed(self, incidents: int | None = None) -> dict[str, int]:
        """Bytes per node; with ``incidents``, scans of per-incident tables are scaled to it."""
        factor = (incidents or self.incidents) / max(self.incidents, 1)
        return {
            uid: sum(
                max(MIN_PER_TABLE, round(s.bytes * (factor if s.per_incident else 1)))
                for s in scans
            )
            for uid, scans in self.nodes.items()
        }

    def total(self, incidents: int | None = None) -> int:
        return sum(self.billed(incidents).values())

    def top(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.billed().items(), key=lambda kv: -kv[1])[:n]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Warehouse:
    """Column sizes of the DuckDB file's tables, computed once per table."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        # Plans as BigQuery bills: filter columns stay in the scans' projections (no
        # filter_pushdown), and a bare min/max is a scan, not an answer from DuckDB's
        # row-group statistics (statistics_propagation).
        con.execute("set disabled_optimizers = 'filter_pushdown,statistics_propagation'")
        self._sizes: dict[tuple[str, str], dict[str, int]] = {}
        self.incidents = self.rows("raw", "incidents")

    def rows(self, schema: str, table: str) -> int:
        """Rows of ``schema.table``."""
        row = self.con.execute(f"select count(*) from {_q(schema)}.{_q(table)}").fetchone()
        return int(row[0]) if row else 0

    def scan(self, schema: str, table: str, cols: Collection[str]) -> Scan:
        """The scan of ``cols`` of ``schema.table``."""
        sizes = self.columns(schema, table)
        read = sum(sizes.get(c, 0) for c in set(cols)) if cols else 0
        # Raw and every model keyed by an incident (staging, intermediate, facts, snapshot) grow
        # with the history; the count marts and dimensions hold a row per period, place or type.
        per_incident = (schema, table) == ("raw", "incidents") or bool(INCIDENT_KEYS & set(sizes))
        return Scan(f"{schema}.{table}", read, per_incident)

    def columns(self, schema: str, table: str) -> dict[str, int]:
        """Logical bytes per column of ``schema.table`` (names from DuckDB's catalog)."""
        key = (schema, table)
        if key not in self._sizes:
            cols = self.con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = current_database() and schema_name = ? "
                "and table_name = ?",
                [schema, table],
            ).fetchall()
            parts = []
            for name, dtype in cols:
                base = dtype.split("(")[0].upper()
                if base == "BLOB":
                    parts.append(f"coalesce(sum(2 + octet_length({_q(name)})), 0)")
                elif base in VARIABLE:  # strlen counts UTF-8 bytes, length characters
                    parts.append(f"coalesce(sum(2 + strlen({_q(name)})), 0)")
                elif "[" in dtype or base in ("STRUCT", "MAP", "LIST"):
                    size = f"strlen(cast({_q(name)} as varchar))"
                    parts.append(f"coalesce(sum({size}), 0)")
                else:
                    parts.append(f"count({_q(name)}) * {FIXED.get(base, 8)}")
            row = (
                self.con.execute(
                    f"select {', '.join(parts)} from {_q(schema)}.{_q(table)}"
                ).fetchone()
                if parts
                else ()
            )
            self._sizes[key] = {name: int(v) for (name, _), v in zip(cols, row or (), strict=True)}
        return self._sizes[key]


def _scans(plan: list[dict]) -> Iterator[tuple[str, str, list[str]]]:
    for node in plan:
        info = node.get("extra_info") or {}
        if "SCAN" in node.get("name", "") and isinstance(info, dict) and "Table" in info:
            _, schema, table = info["Table"].split(".", 2)
            projections = info.get("Projections") or []
            cols = [projections] if isinstance(projections, str) else list(projections)
            yield schema, table, [c for c in cols if c]
        yield from _scans(node.get("children", []))


def query_scans(wh: Warehouse, sql: str) -> list[Scan]:
    """The tables and columns ``sql`` reads (DuckDB's plan; views expanded)."""
    row = wh.con.execute(f"explain (format json) {sql}").fetchone()
    assert row is not None
    return [wh.scan(schema, table, cols) for schema, table, cols in _scans(json.loads(row[1]))]


def estimate(db: Path, target: Path) -> Estimate:
    """The bytes each node of the build in dbt's ``target`` directory would be billed.

    Args:
        db: the DuckDB file the build wrote (its tables are measured as they are now).
        target: the build's ``target/`` (``run_results.json`` and ``manifest.json``).
    """
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    materialized = {uid: n["config"].get("materialized") for uid, n in nodes.items()}
    con = duckdb.connect(str(db), read_only=True)
    try:
        wh = Warehouse(con)
        est = Estimate(wh.incidents)
        for res in results:
            uid, sql = res["unique_id"], (res.get("compiled_code") or "").strip()
            kind = uid.split(".", 1)[0]
            if kind not in ("model", "snapshot", "test") or not sql or res["status"] == "skipped":
                continue
            relation = res.get("relation_name")
            if kind == "model" and _is_view(con, relation):
                est.nodes[uid] = []  # creating a view reads nothing
                continue
            scans = query_scans(wh, sql)
            if relation and materialized.get(uid) in MERGED:
                _, schema, table = (p.strip('"') for p in relation.split(".", 2))
                scans.append(wh.scan(schema, table, list(wh.columns(schema, table))))
            est.nodes[uid] = scans
    finally:
        con.close()
    return est


def _is_view(con: duckdb.DuckDBPyConnection, relation: str | None) -> bool:
    if not relation:
        return False
    _, schema, table = (p.strip('"') for p in relation.split(".", 2))
    found = con.execute(
        "select count(*) from duckdb_views() where database_name = current_database() "
        "and schema_name = ? and view_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def main(argv: list[str]) -> None:
    est = estimate(Path(argv[0]), Path(argv[1]))
    for incidents in (est.incidents, 1_000_000, 10_000_000):
        gib = est.total(incidents) / 1024**3
        print(f"{incidents:>10,} incidents: {gib:.2f} GiB billed (upper bound)")
    print(f"{len(est.nodes)} nodes; the largest at {est.incidents:,}:")
    for uid, billed in est.top(10):
        print(f"  {billed / 1024**2:10.1f} MiB  {uid}")


if __name__ == "__main__":
    main(sys.argv[1:])
