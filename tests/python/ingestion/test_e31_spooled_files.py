"""The fetch's spooled pages are the files the load inserts (issue 16 P1, e31).

The pages used to be spooled as Arrow IPC, read back after the last page and written again by
dlt's extract as parquet. Now each page goes once into a parquet file while the fetch runs and
dlt imports that file: no incidents row passes through dlt's writer, the pages of one fetch are
one insert, and only a file holding a superseded duplicate is rewritten. What must not change:
the rows, the rejections (payloads in the page's own column order, no lineage columns in them),
and the column order dlt records.
"""

from __future__ import annotations

from datetime import date

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient
from dlt.extract.extractors import ArrowExtractor
from duckdb_ingest import ingest_duckdb
from ingest_helpers import accounting_holds, query

from ingestion.profiles import load_profile
from ingestion.quarantine import FetchQuarantine
from ingestion.socrata.settings import DatasetSettings
from replay.server import running_replay

DATASET = DatasetSettings.from_profile(load_profile("buffalo"))
DAY = date(2025, 6, 10)
START = date(2025, 5, 20)


def record(case: str, updated: str = "2024-03-05T19:07:00.000Z", **extra) -> dict:
    row = {
        ":id": f"row-{case}",
        ":updated_at": updated,
        "case_number": case,
        "incident_datetime": "2024-03-05T14:07:00.000",
        "latitude": "42.912",
        "incident_description": "theft",
    }
    row.update(extra)
    return {k: v for k, v in row.items() if v is not None}


def lineage(table: pa.Table) -> pa.Table:
    """A stand-in for the source's lineage columns (appended after the record's)."""
    return table.append_column("_dlt_id", pa.array([f"id-{i}" for i in range(table.num_rows)]))


def test_a_backfill_inserts_its_spooled_pages_without_writing_them_again(tmp_path, monkeypatch):
    written, inserts = [], []
    write_item, execute = ArrowExtractor._write_item, DuckDbSqlClient.execute_sql

    def spy_write(self, table_name, resource_name, items, columns=None):
        written.append(table_name)
        return write_item(self, table_name, resource_name, items, columns)

    def spy_execute(self, sql, *args, **kwargs):
        if str(sql).startswith('INSERT INTO "raw"."incidents"'):
            inserts.append(sql)
        return execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(ArrowExtractor, "_write_item", spy_write)
    monkeypatch.setattr(DuckDbSqlClient, "execute_sql", spy_execute)
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=DAY, faults=("duplicates",)) as url:
        result = ingest_duckdb(url, path, START, show_progress=False, page_size=300)
    assert result.pages > 3 and result.duplicates > 0
    accounting_holds(path, result)
    # dlt wrote the small tables itself, never an incidents page: it imported the spooled file,
    # and every page of the fetch went in with one insert.
    assert "incidents" not in written and "source_profile" in written
    assert len(inserts) == 1
    (distinct,) = query(path, "select count(distinct _dlt_id) from raw.incidents")[0]
    assert distinct == result.loaded


def pages() -> list[list[dict]]:
    """Four pages: another key order (a first record without latitude), a drifted column (page 2
    only), and a key seen in page 0 revised in page 3 (page 0's version is superseded)."""
    return [
        [record("A", incident_description="old"), record("B")],
        [record("C", latitude=None), record("D")],
        [record("E", zip_code="14201"), record("F")],
        [record("A", "2024-03-06T10:00:00.000Z", incident_description="new"), record("G")],
    ]


def fill(tmp_path, name: str) -> FetchQuarantine:
    quarantine = FetchQuarantine(DATASET, spool=tmp_path / name, landed=lineage)
    for page in pages():
        quarantine.add_page(page)
    return quarantine


def test_files_hold_what_the_pages_held_and_only_a_file_with_a_loser_is_rewritten(tmp_path):
    quarantine = fill(tmp_path, "files")
    spool = quarantine.workdir
    before = {p.name: p.stat().st_ino for p in spool.glob("*.parquet")}
    # Pages 0-1 share a file (same columns, another order); the drifted page 2 starts a new one,
    # and so does page 3, without its column.
    assert len(before) == 3
    files = []
    for path, rows, schema in quarantine.files():
        table = pq.read_table(path)
        files.append((path.name, rows, table, schema, path.stat().st_ino))
    assert [rows for _, rows, *_ in files] == [3, 2, 2]  # page 0's "A" is gone from the first
    assert [inode != before[name] for name, *_, inode in files] == [True, False, False]
    kept = {
        row["case_number"]: row.get("incident_description")
        for f in files
        for row in f[2].to_pylist()
    }
    assert kept == {"A": "new", **{case: "theft" for case in "BCDEFG"}}
    (rejection,) = quarantine.rejections
    assert rejection.case_number == "A" and rejection.reason.startswith("duplicate case_number")
    payload = orjson.loads(rejection.payload)
    assert payload["incident_description"] == "old" and "_dlt_id" not in payload
    assert list(payload)[:3] == [":id", ":updated_at", "case_number"]  # the page's own order
    assert not spool.exists()  # the spool goes once the files are handed on


def test_files_give_the_rows_rejections_and_column_order_the_page_tables_gave(tmp_path):
    by_tables = fill(tmp_path, "tables")
    tables = list(by_tables.tables())  # the pages one by one, last first: what dlt used to get
    by_files = fill(tmp_path, "files")
    files = [(pq.read_table(path), schema) for path, _, schema in by_files.files()]

    def rows(found: list[pa.Table]) -> list[tuple]:
        return sorted(tuple(sorted(r.items())) for t in found for r in t.to_pylist())

    assert rows([t for t, _ in files]) == rows(tables)
    assert [r.payload for r in by_files.rejections] == [r.payload for r in by_tables.rejections]
    order: list[str] = []
    for table in tables:  # dlt appends each item's new columns to the ones it knows
        order += [name for name in table.column_names if name not in order]
    assert all(schema.names == order for _, schema in files)
    assert order.index("latitude") < order.index("_dlt_id") < order.index("zip_code")
