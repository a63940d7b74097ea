"""dlt's lineage columns, made by the source at extract: same columns as dlt's normalizer made.

The source appends ``_dlt_load_id`` and ``_dlt_id`` to its Arrow items so that dlt's normalize
step imports the extracted files as they are (no rewrite of every file to add ``_dlt_id``).
Checked: the raw tables keep dlt's column order and definitions, every row carries the id of
the load that wrote it and a unique row id, on a backfill with faults (rejections, drifted
columns, duplicates across pages) and on a next-day merge into the existing table.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from dlt.common.schema.utils import dlt_id_column, dlt_load_id_column
from dlt.normalize.items_normalizers.arrow import ArrowItemsNormalizer
from duckdb_ingest import ingest_duckdb
from ingest_helpers import query

from replay.server import running_replay

DAY = date(2025, 6, 10)
START = date(2025, 5, 20)
FAULTS = ("malformed", "duplicates", "drift_new_column")
TABLES = ("incidents", "incidents_rejected", "source_profile", "source_geographies")


def test_a_backfill_s_extracted_files_are_imported_not_rewritten(tmp_path, monkeypatch):
    normalized, rewritten = [], []
    call, rewrite = ArrowItemsNormalizer.__call__, ArrowItemsNormalizer._write_with_dlt_columns

    def spy_call(self, extracted_items_file, root_table_name):
        normalized.append(root_table_name)
        return call(self, extracted_items_file, root_table_name)

    def spy_rewrite(self, extracted_items_file, root_table_name, add_dlt_id):
        rewritten.append(root_table_name)
        return rewrite(self, extracted_items_file, root_table_name, add_dlt_id)

    monkeypatch.setattr(ArrowItemsNormalizer, "__call__", spy_call)
    monkeypatch.setattr(ArrowItemsNormalizer, "_write_with_dlt_columns", spy_rewrite)
    with running_replay(as_of=DAY) as url:
        result = ingest_duckdb(url, tmp_path / "blotter.duckdb", START, show_progress=False)
    assert result.loaded > 100 and "incidents" in normalized
    assert rewritten == []  # every Arrow file (pages, profile tables) imported as it is


def test_lineage_columns_are_dlt_s_own_on_every_row(tmp_path):
    path = tmp_path / "blotter.duckdb"
    results = []
    for as_of in (DAY, DAY + timedelta(days=1)):  # a backfill, then a merge into it
        with running_replay(as_of=as_of, faults=FAULTS) as url:
            results.append(ingest_duckdb(url, path, START, show_progress=False, page_size=500))
    backfill, next_day = results
    assert backfill.rejected > 0 and backfill.pages > 1 and backfill.duplicates > 0
    for table in TABLES:
        columns = [c for (c,) in query(path, f"select column_name from (describe raw.{table})")]
        assert columns[-2:] == ["_dlt_load_id", "_dlt_id"], table
        unknown, rows, ids, nulls = query(
            path,
            f"select count(*) filter (where _dlt_load_id not in (select load_id from "
            f"raw._dlt_loads where status = 0)), count(*), count(distinct _dlt_id), "
            f"count(*) - count(_dlt_id) from raw.{table}",
        )[0]
        assert unknown == 0 and nulls == 0 and ids == rows > 0, table
    loads = dict(query(path, "select _dlt_load_id, count(*) from raw.incidents group by 1"))
    assert loads[backfill.load_id] + loads.get(next_day.load_id, 0) == sum(loads.values())
    assert loads.get(next_day.load_id, 0) == next_day.loaded
    (schema,) = query(path, "select schema from raw._dlt_version order by inserted_at desc")[0]
    for table in TABLES:
        columns = json.loads(schema)["tables"][table]["columns"]
        assert columns["_dlt_id"] == dlt_id_column() and columns["_dlt_load_id"] == (
            dlt_load_id_column()
        ), table
