"""Schema drift is reported once, in plain lines, at warning level, and never breaks a load."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, timedelta

from duckdb_ingest import ingest_duckdb
from real_samples import CHICAGO_API

from ingestion.drift import detect_drift
from ingestion.profiles import load_profile
from replay.server import running_replay

DAY = date(2025, 6, 10)


def test_drift_lines_compare_with_the_profile_and_raw():
    expected = {"case_number": "text", "hour_of_day": "text", "location": "point"}
    announced = {":id": "row_identifier", "case_number": "text", "hour_of_day": "number"}
    announced |= {"zip_code": "text", "location": "point"}
    kinds = {"location": "object", "latitude": "number"}
    fetched = {"case_number", "hour_of_day", "zip_code", "location", "latitude"}
    lines = detect_drift(expected, announced, kinds, fetched, raw_columns=None)
    assert lines == [
        "column hour_of_day changed type text -> number",
        "new source column latitude (number)",  # not in the profile, no header: its values
        "new source column zip_code (text)",
    ]
    # A column raw already has is not new any more (it was reported when it first appeared).
    seen = {"case_number", "hour_of_day", "zip_code", "latitude", "location"}
    assert detect_drift(expected, announced, kinds, fetched, seen) == [
        "column hour_of_day changed type text -> number"
    ]
    assert detect_drift(expected, {}, {"case_number": "number"}, {"case_number"}, None) == [
        "column case_number changed type text -> number"  # values drifted, header silent
    ]


def test_a_new_column_is_reported_once_when_it_first_appears(tmp_path, caplog):
    path = tmp_path / "blotter.duckdb"
    start = DAY - timedelta(days=2)

    def land(day: date, faults: tuple[str, ...] = ()) -> list[str]:
        with running_replay(as_of=day, faults=faults, start=start) as url:
            return ingest_duckdb(url, path, start, as_of=day, show_progress=False).drift

    assert land(DAY) == []
    with caplog.at_level(logging.WARNING, logger="blotter.ingestion"):
        drift = land(DAY + timedelta(days=1), ("drift_new_column", "drift_type_change"))
    assert drift == [
        "column hour_of_day changed type text -> number",
        "new source column incident_id (text)",
        "column latitude changed type text -> number",
        "column longitude changed type text -> number",
        "new source column zip_code (text)",
    ]
    assert all("schema drift at http://127.0.0.1:" in r.message for r in caplog.records[-5:])
    assert {line for r in caplog.records for line in drift if line in r.message} == set(drift)
    # The columns are in raw now: only the type change is still news.
    again = land(DAY + timedelta(days=2), ("drift_new_column", "drift_type_change"))
    assert "new source column zip_code (text)" not in again
    assert "column hour_of_day changed type text -> number" in again


def test_a_real_column_the_profile_does_not_know_is_reported(tmp_path):
    chicago = load_profile("chicago")
    types = {k: v for k, v in chicago.column_types.items() if k != "iucr"}
    older = dataclasses.replace(chicago, column_types=types)  # a profile written before iucr
    with running_replay(from_file=CHICAGO_API, profile=chicago) as source:
        result = ingest_duckdb(
            source, tmp_path / "w.duckdb", date(2025, 5, 1), show_progress=False, profile=older
        )
    assert result.drift == ["new source column iucr (text)"]
    assert result.loaded == 1000  # drift never stops a load
