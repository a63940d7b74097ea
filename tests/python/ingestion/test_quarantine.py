"""Validation and de-duplication rules, on hand-made records (no server needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import orjson
import pyarrow as pa
import pytest

from ingestion.pages import from_records
from ingestion.profiles import load_profile
from ingestion.quarantine import FetchQuarantine, clear_stale_spools
from ingestion.socrata.settings import Bounds, DatasetSettings
from ingestion.validation import column_name, text_array

PROFILE = load_profile("buffalo")
DATASET = DatasetSettings.from_profile(PROFILE)


def record(case: str | None = "24-0000001", updated: str = "2024-03-05T19:07:00.000Z", **extra):
    row = {
        ":id": f"row-{case}",
        ":updated_at": updated,
        "case_number": case,
        "incident_datetime": "2024-03-05T14:07:00.000",
        "latitude": "42.912",
        "longitude": "-78.851",
        "location": {"type": "Point", "coordinates": [-78.851, 42.912]},
    }
    row.update(extra)
    return {k: v for k, v in row.items() if v is not None}


def problems(*records) -> list[str]:
    """Reasons given for the rejected records of one page (empty when all are fine)."""
    quarantine = FetchQuarantine(DATASET)
    quarantine.add_page(list(records))
    accepted = sum(table.num_rows for table in quarantine.tables())
    assert accepted + len(quarantine.rejections) == len(records)
    return [reason for r in quarantine.rejections for reason in r.reason.split("; ")]


def test_a_good_record_has_no_problems():
    assert problems(record()) == []
    assert problems(record(latitude="UNKNOWN", longitude=None)) == []
    assert problems(record(latitude=42.9, longitude=-78.8)) == []  # drifted to numbers
    assert problems(record(case=12345)) == []  # a drifted key is stringified, not lost


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"case_number": None}, "missing case_number"),
        ({"case_number": "  "}, "missing case_number"),
        ({"incident_datetime": "2024-13-45T99:00:00"}, "unparsable incident_datetime"),
        ({"incident_datetime": "yesterday"}, "unparsable incident_datetime"),
        ({"incident_datetime": None}, "missing incident_datetime"),
        ({"latitude": "north-ish"}, "non-numeric latitude"),
        ({"longitude": ""}, "non-numeric longitude"),
        ({"longitude": "NaN"}, "non-numeric longitude"),
        ({"longitude": "1e999"}, "non-numeric longitude"),
        ({":updated_at": None}, "missing or unparsable :updated_at"),
        ({":updated_at": "soon"}, "missing or unparsable :updated_at"),
    ],
)
def test_each_rule_names_its_reason(change, reason):
    # one bad record among good ones: only it is rejected, for that reason
    found = problems(record("A"), record("B", **change), record("C"))
    assert reason in found


def test_a_non_object_record_is_rejected():
    assert problems(["not", "a", "dict"], record()) == ["record is a JSON list, not an object"]


def test_system_fields_are_renamed():
    assert column_name(":id") == "socrata_id"
    assert column_name(":updated_at") == "socrata_updated_at"
    assert column_name("case_number") == "case_number"


def test_type_drift_and_objects_become_text():
    array = text_array(["7", 7, 7.5, True, {"type": "Point", "coordinates": [-78.8, 42.9]}, None])
    assert array.to_pylist() == [
        "7",
        "7",
        "7.5",
        "true",
        '{"type":"Point","coordinates":[-78.8,42.9]}',
        None,
    ]


def test_fetch_keeps_the_latest_version_and_rejects_the_rest():
    quarantine = FetchQuarantine(DATASET)
    quarantine.add_page(
        [
            record("A", "2024-03-05T19:07:00.000Z", incident_description="first"),
            record("B", "2024-03-05T19:08:00.000Z"),
            record(None),  # malformed
        ]
    )
    quarantine.add_page(
        [
            record("B", "2024-03-05T19:08:00.000Z"),  # same version again (paging overlap)
            record("A", "2024-03-06T10:00:00.000Z", incident_description="revised"),
        ]
    )
    tables = list(quarantine.tables())
    rows = [row for table in tables for row in table.to_pylist()]
    assert sorted(r["case_number"] for r in rows) == ["A", "B"]
    assert {r["case_number"]: r.get("incident_description") for r in rows}["A"] == "revised"
    assert quarantine.fetched == 5
    assert len(rows) + len(quarantine.rejections) == quarantine.fetched
    assert quarantine.duplicates == 2
    reasons = sorted(r.reason.split(" ")[0] for r in quarantine.rejections)
    assert reasons == ["duplicate", "duplicate", "missing"]
    first_a = next(r for r in quarantine.rejections if r.case_number == "A")
    payload = orjson.loads(first_a.payload)
    assert payload["incident_description"] == "first" and payload[":id"] == "row-A"
    assert payload["location"]["type"] == "Point"
    assert quarantine.max_cursor == "2024-03-06T10:00:00.000Z"


def test_landed_columns_are_all_text_with_location_as_json():
    quarantine = FetchQuarantine(DATASET)
    quarantine.add_page([record("A"), record("B", hour_of_day=14)])
    (table,) = quarantine.tables()
    assert all(str(field.type) == "string" for field in table.schema)
    assert "socrata_updated_at" in table.column_names
    row = table.to_pylist()[1]
    assert row["hour_of_day"] == "14"
    assert orjson.loads(row["location"]) == {"type": "Point", "coordinates": [-78.851, 42.912]}


def test_records_after_the_as_of_day_are_quarantined_never_landed():
    bounds = Bounds.for_day(PROFILE, date(2024, 3, 5))  # ends 2024-03-06T05:00Z (EST)
    quarantine = FetchQuarantine(DATASET, bounds)
    quarantine.add_page(
        [
            record("A", incident_datetime="2024-03-05T23:59:59.000"),  # the last minute: fine
            record("B", incident_datetime="2024-03-06T00:00:00.000"),  # the next local day
            record("C", incident_datetime="2034-03-05T14:07:00.000"),  # a typo in the year
            record("D", updated="2024-03-06T05:00:00.000Z"),  # changed after the as-of
        ]
    )
    landed = [row["case_number"] for table in quarantine.tables() for row in table.to_pylist()]
    assert landed == ["A"] and quarantine.future == 2
    reasons = {r.case_number: r.reason for r in quarantine.rejections}
    assert reasons["B"] == reasons["C"] == "incident_datetime after as-of 2024-03-05"
    assert reasons["D"] == ":updated_at after as-of 2024-03-05"
    assert quarantine.max_cursor < "2024-03-06T05:00:00"  # the cursor never passes the as-of


def page_of(prefix: str, rows: int = 2000) -> list[dict]:
    """A page of distinct good records with some bulk (a long description)."""
    return [record(f"{prefix}-{i:05d}", incident_description="d" * 200) for i in range(rows)]


def test_memory_follows_the_page_not_the_fetch(tmp_path):
    # Pages wait on disk: Arrow memory after twelve pages (and while they are handed on, one
    # at a time) stays below two pages' worth, where keeping them all would need twelve.
    # Read back on one thread, nothing of the previous page lingers (threaded decoding
    # freed its buffers late and once measured 3.2 pages under xdist).
    page_bytes = from_records(page_of("P0")).table.nbytes
    quarantine = FetchQuarantine(DATASET, spool=tmp_path)
    before = pa.total_allocated_bytes()
    for p in range(12):
        quarantine.add_page(page_of(f"P{p}"))
    assert pa.total_allocated_bytes() - before < 2 * page_bytes
    held = []
    for table in quarantine.tables():
        held.append(pa.total_allocated_bytes() - before)
        assert table.num_rows == 2000
        del table
    assert len(held) == 12 and max(held) < 2 * page_bytes
    assert not list(tmp_path.iterdir())  # the spool is removed once the pages are handed on


def test_duplicates_far_apart_resolve_to_the_newest_version(tmp_path):
    quarantine = FetchQuarantine(DATASET, spool=tmp_path)
    for p in range(9):
        page = page_of(f"P{p}", rows=50)
        if p == 1:
            page.append(record("A", "2024-03-05T19:07:00.000Z", incident_description="old"))
            page.append(record("T", "2024-03-05T19:07:00.000Z", incident_description="first"))
        if p == 4:  # a revision out of cursor order: still older than page 8's
            page.append(record("A", "2024-03-06T09:00:00.000Z", incident_description="mid"))
        if p == 8:
            page.append(record("A", "2024-03-07T10:00:00.000Z", incident_description="new"))
            page.append(record("T", "2024-03-05T19:07:00.000Z", incident_description="again"))
        quarantine.add_page(page)
    rows = [row for table in quarantine.tables() for row in table.to_pylist()]
    kept = {r["case_number"]: r["incident_description"] for r in rows if r["case_number"] in "AT"}
    assert kept == {"A": "new", "T": "first"}  # newest cursor wins; a tie keeps the first seen
    assert len(rows) == 9 * 50 + 2 and quarantine.duplicates == 3
    rejected = sorted(
        orjson.loads(r.payload)["incident_description"] for r in quarantine.rejections
    )
    assert rejected == ["again", "mid", "old"]
    assert all(r.reason.startswith("duplicate case_number") for r in quarantine.rejections)
    assert quarantine.max_cursor == "2024-03-07T10:00:00.000Z"


def test_a_killed_fetchs_spool_is_cleared_and_a_live_ones_kept(tmp_path):
    # A fetch killed mid-way leaves fetch-<pid>-*; the next ingest removes it, never a live one's.
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f"fetch-{int(child.stdout)}-abc"
    live = tmp_path / f"fetch-{os.getpid()}-def"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "page-0.arrow").write_bytes(b"x")
    assert clear_stale_spools(tmp_path) == tmp_path
    assert not dead.exists()
    assert live.exists()
