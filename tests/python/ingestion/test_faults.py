"""The fault matrix: every replay-API fault class is survived, fires, and loses nothing.

For each fault, on a one-day window (one page) the fault fires, and the first load accounts for
every record (fetched == loaded + rejected) and lands only what a clean load holds; over
several pages, a ``--full-refresh`` under the fault never removes a key raw had nor replaces a
good version with a bad one.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import orjson
import pytest
import requests
from duckdb_ingest import ingest_duckdb
from ingest_helpers import accounting_holds, query, snapshot

from ingestion.pipeline import IngestResult
from orchestration.settings import DEMO_FAULTS
from replay.server import running_replay

AS_OF = date(2025, 6, 10)
# ~750 rows in pages of 200: several pages, so paging faults (overlaps, retries mid-fetch)
# happen between pages as well as on the first one.
START = date(2025, 5, 20)
REPLAY_START = date(2025, 5, 15)
PAGE_SIZE = 200
AS_OF_END_UTC = "2025-06-11T04:00:00"  # midnight EDT at the end of AS_OF


def land(path: Path, faults: tuple[str, ...] = (), **options) -> IngestResult:
    with running_replay(as_of=AS_OF, faults=faults, start=REPLAY_START) as url:
        return ingest_duckdb(
            url, path, START, as_of=AS_OF, show_progress=False, page_size=PAGE_SIZE, **options
        )


def columns(path: Path) -> set[str]:
    return {c for (c,) in query(path, "select column_name from (describe raw.incidents)")}


def _number(text: str | None) -> float | str | None:
    # drift_type_change serves 42.94 where the text was "42.940": the same coordinate.
    try:
        return float(text) if text is not None else None
    except ValueError:
        return text


def rows(path: Path) -> dict[str, tuple]:
    """case_number -> (socrata_updated_at, incident_datetime, latitude) of raw.incidents."""
    got = query(
        path,
        "select case_number, socrata_updated_at, incident_datetime, latitude from raw.incidents",
    )
    return {case: (updated, when, _number(lat)) for case, updated, when, lat in got}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("baseline") / "blotter.duckdb"
    result = land(path)
    accounting_holds(path, result)
    assert result.rejected == 0 and not result.drift
    return path, snapshot(path)


def test_demo_faults_include_the_future_dated_case():
    assert "future_dated" in DEMO_FAULTS


@pytest.mark.parametrize("fault", DEMO_FAULTS)
def test_full_refresh_under_a_fault_keeps_every_key_and_good_version(fault, tmp_path, baseline):
    path = tmp_path / "blotter.duckdb"
    shutil.copy(baseline[0], path)  # dlt restores its state from the warehouse itself
    before = rows(path)
    result = land(path, (fault,), full_refresh=True)
    assert result.full_refresh and result.fetched == result.loaded + result.rejected
    after = rows(path)
    assert before.keys() <= after.keys()  # raw never loses a key it had
    assert after == before  # same as-of: every record keeps its (good) version
    total, distinct = query(
        path, "select count(*), count(distinct case_number) from raw.incidents"
    )[0]
    assert total == distinct == result.raw_rows
    rejected = result.rejected and query(
        path,
        "select case_number from raw.incidents_rejected where _dlt_load_id = ?",
        result.load_id,
    )
    assert len(rejected or []) == result.rejected
    # A bad new version of a known record was quarantined; raw kept the last good one.
    bad_keys = {case for (case,) in rejected or [] if case} & before.keys()
    if fault in ("malformed", "future_dated"):
        assert bad_keys
    assert all(after[k] == before[k] for k in bad_keys)


def _stats(url: str) -> dict:
    return requests.get(url.split("/resource/")[0] + "/__replay/stats", timeout=10).json()


@pytest.fixture(scope="module")
def one_day(tmp_path_factory) -> tuple[Path, dict]:
    """A clean load of AS_OF alone: one page."""
    path = tmp_path_factory.mktemp("one_day") / "blotter.duckdb"
    result, _ = land_day(path)
    accounting_holds(path, result)
    assert result.pages == 1 and result.rejected == 0 and not result.drift
    return path, snapshot(path)


def land_day(path: Path, faults: tuple[str, ...] = ()) -> tuple[IngestResult, dict]:
    """Ingest AS_OF alone under ``faults``; also return the replay API's fault counters."""
    with running_replay(as_of=AS_OF, faults=faults, start=AS_OF) as url:
        result = ingest_duckdb(url, path, AS_OF, as_of=AS_OF, show_progress=False)
        return result, _stats(url)


@pytest.mark.parametrize("fault", DEMO_FAULTS)
def test_every_fault_fires_on_a_one_day_window_and_is_survived(fault, tmp_path, one_day):
    path = tmp_path / "blotter.duckdb"
    result, stats = land_day(path, (fault,))
    assert result.pages == 1
    fired = {
        "http429": stats["served_429"] > 0 and result.retries > 0,
        "http5xx": stats["served_5xx"] > 0 and result.retries > 0,
        "slow": stats["slow_requests"] > 0 and stats["slow_seconds"] >= 0.5,
        "malformed": result.rejected - result.duplicates > 0,
        "duplicates": result.duplicates > 0,
        "drift_new_column": "new source column zip_code (text)" in result.drift,
        "drift_type_change": "column hour_of_day changed type text -> number" in result.drift,
        "future_dated": result.quarantined_future > 0,
    }
    assert fired[fault], (fault, stats, result)
    # A first load under the fault: every record accounted for, only right rows landed.
    accounting_holds(path, result)
    landed = {k: v[0] for k, v in snapshot(path).items()}
    expected = {k: v[0] for k, v in one_day[1].items()}
    if fault in ("malformed", "future_dated"):
        assert landed.items() < expected.items()  # what was landed is right
    else:
        assert landed == expected  # nothing lost, nothing invented
    if fault == "duplicates":
        assert result.rejected == result.duplicates
    elif fault == "future_dated":
        assert result.rejected == result.quarantined_future
    elif fault != "malformed":
        assert result.rejected == 0
    if fault == "drift_new_column":
        assert {"zip_code", "incident_id"} <= columns(path) - columns(one_day[0])
    types = {t for (t,) in query(path, "select column_type from (describe raw.incidents)")}
    assert types == {"VARCHAR"}  # drifted values are stringified, never a load error
    # Nothing dated after the as-of is ever landed, and the cursor stays within the as-of.
    (latest,) = query(path, "select max(incident_datetime) from raw.incidents")[0]
    assert latest < "2025-06-11" and result.cursor < AS_OF_END_UTC


def test_malformed_rows_are_kept_with_reasons_and_payloads(tmp_path):
    path = tmp_path / "blotter.duckdb"
    result = land(path, ("malformed", "future_dated"))
    got = query(
        path, "select reason, payload, case_number, rejected_at from raw.incidents_rejected"
    )
    assert len(got) == result.rejected > 0
    reasons = " | ".join(reason for reason, *_ in got)
    for needle in ("case_number", "unparsable incident_datetime", "itude"):  # lat / longitude
        assert needle in reasons
    assert f"incident_datetime after as-of {AS_OF.isoformat()}" in reasons
    for _, payload, case_number, rejected_at in got:
        record = orjson.loads(payload)
        assert record.get("case_number") == case_number or not case_number
        assert rejected_at is not None
