"""h37, issue 16 P2: the counts marts' daily recount reads the touched days, not every incident.

A daily build's counts marts recount the touched days through a date range that DuckDB pushes
into the incidents scan (before, `occurred_date in (select ...)` sat above int_incident_areas'
union of levels, so every level of every incident was unpivoted and then dropped), and
int_data_window reads the deduplicated table without the classified view's type joins. Each
test checks the query plans dbt compiled for the daily build and that the build equals a
``--full-refresh`` (EXCEPT ALL both ways): after revisions that move incidents to another day,
area and type and withdraw a date, and after an area vanishes (the pre-hook empties the marts,
so the range must not be read before it does: without that guard, the second test fails).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
from conftest import DEV, LANDED_NEXT_DAY, query
from test_counts_incremental import COUNTS, build, revise
from test_incremental_equivalence import differences, full_refresh_copy, land_day
from test_m33_counts_record import recounts_of_all_history, revise_a_day

INCIDENTS = "int_incidents_deduplicated"
COMPARED = [
    *COUNTS,
    (f"{DEV}marts", "dim_geography"),
    (f"{DEV}intermediate", "int_data_window"),
]


def compiled(model: str) -> str:
    """The SQL dbt compiled for ``model`` in the last build (not a unit test's)."""
    target = Path(os.environ["DBT_TARGET_PATH"], "compiled")
    [path] = [p for p in target.rglob(f"{model}.sql") if ".yml/" not in p.as_posix()]
    return path.read_text()


def scans(db: Path, sql: str) -> list[dict]:
    """The table scans of ``sql``'s DuckDB plan: their table, filters and columns."""
    con = duckdb.connect(str(db))
    try:
        [(_, plan)] = con.execute(f"explain (format json) {sql}").fetchall()
    finally:
        con.close()
    out: list[dict] = []

    def walk(node: dict | list) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        info = node.get("extra_info", {})
        if "Table" in info:
            out.append(
                {
                    "table": info["Table"],
                    "filters": str(info.get("Filters", "")),
                    "columns": info.get("Projections", []),
                }
            )
        walk(node.get("children", []))

    walk(json.loads(plan))
    return out


def reads(db: Path, model: str, table: str, geo: bool = False) -> list[str]:
    """The filters of every scan of ``table`` in ``model``'s compiled daily query (with
    ``geo``: of those reading a geography column, i.e. the areas' unpivot)."""
    return [
        s["filters"]
        for s in scans(db, compiled(model))
        if s["table"].endswith(f".{table}")
        and (not geo or any(str(c).startswith("geo_") for c in s["columns"]))
    ]


def test_daily_build_reads_the_days_it_changes_and_equals_a_full_refresh(
    built_copy: Path, tmp_path: Path
) -> None:
    db = built_copy
    revise_a_day(db)
    assert recounts_of_all_history(lambda: build(db)) == set()
    for mart in ("fct_incident_counts", "fct_incident_counts_by_type"):
        found = reads(db, mart, INCIDENTS, geo=True)
        assert found, mart
        # Each read of the incidents' areas is the day's loads or the touched days' range.
        for filters in found:
            assert "dlt_load_id >" in filters or "occurred_date>=" in filters, (mart, found)
    # The data window reads the table once, without the classified view's type joins.
    assert len(reads(db, "int_data_window", INCIDENTS)) == 1
    assert reads(db, "int_data_window", "source_incident_types") == []
    full = full_refresh_copy(db, tmp_path / "full", select=["+fct_incident_counts_by_type"])
    assert differences(db, full, COMPARED) == {}


def test_a_vanished_area_rebuilds_the_marts_whole_and_equals_a_full_refresh(
    built_copy: Path, tmp_path: Path
) -> None:
    db = built_copy
    land_day(db, LANDED_NEXT_DAY)
    # Every incident of the smallest neighbourhood moves to another one: the area vanishes.
    [(gone, other)] = query(
        db,
        "select arg_min(neighborhood, n), arg_max(neighborhood, n) from (select neighborhood, "
        "count(*) as n from raw.incidents where neighborhood is not null group by all)",
    )
    revise(db, "neighborhood = ?", "neighborhood = ?", [other, gone])
    log = Path(os.environ["DBT_LOG_PATH"]) / "dbt.log"
    start = log.stat().st_size if log.exists() else 0
    assert recounts_of_all_history(lambda: build(db)) == set()
    with log.open(encoding="utf-8", errors="replace") as lines:
        lines.seek(start)
        emptied = [line for line in lines if "rebuilding it whole" in line]
    assert {name for _, name in COUNTS if any(f'"{name}":' in line for line in emptied)} == {
        "fct_incident_counts",
        "fct_incident_counts_by_type",
    }
    full = full_refresh_copy(db, tmp_path / "full", select=["+fct_incident_counts_by_type"])
    assert differences(db, full, COMPARED) == {}
