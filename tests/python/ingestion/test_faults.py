"""Every replay-API fault class is survived, and fetched == loaded + rejected still holds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest
from ingest_helpers import accounting_holds, query, snapshot

from ingestion.pipeline import IngestResult, ingest
from ingestion.replay.server import running_replay
from orchestration.settings import DEMO_FAULTS

AS_OF = date(2025, 6, 10)
# ~4,000 rows in pages of 500: enough pages for the request-level faults to hit, and enough
# rows for every kind of malformed record (0.5% of rows) to appear.
START = date(2025, 3, 1)
REPLAY_START = date(2025, 3, 1)
PAGE_SIZE = 500


def land(path: Path, faults: tuple[str, ...] = ()) -> IngestResult:
    with running_replay(as_of=AS_OF, faults=faults, start=REPLAY_START) as url:
        return ingest(url, path, START, show_progress=False, page_size=PAGE_SIZE)


def columns(path: Path) -> set[str]:
    return {c for (c,) in query(path, "select column_name from (describe raw.incidents)")}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("baseline") / "blotter.duckdb"
    accounting_holds(path, land(path))
    return path, snapshot(path)


@pytest.mark.parametrize("fault", DEMO_FAULTS)
def test_fault_is_survived_with_accounting(fault, tmp_path, baseline):
    path = tmp_path / "blotter.duckdb"
    result = land(path, (fault,))
    accounting_holds(path, result)
    landed = {k: v[0] for k, v in snapshot(path).items()}
    expected = {k: v[0] for k, v in baseline[1].items()}
    if fault == "malformed":
        assert result.rejected > 0
        assert landed.items() <= expected.items()  # what was landed is right
    else:
        assert landed == expected  # nothing lost, nothing invented
    if fault in ("http429", "http5xx"):
        assert result.retries > 0
    if fault == "duplicates":
        assert result.duplicates > 0 and result.rejected == result.duplicates
    elif fault != "malformed":
        assert result.rejected == 0
    if fault == "drift_new_column":
        assert columns(path) - columns(baseline[0])
    types = {t for (t,) in query(path, "select column_type from (describe raw.incidents)")}
    assert types == {"VARCHAR"}  # drifted values are stringified, never a load error


def test_malformed_rows_are_kept_with_reasons_and_payloads(tmp_path):
    path = tmp_path / "blotter.duckdb"
    result = land(path, ("malformed",))
    rows = query(
        path, "select reason, payload, case_number, rejected_at from raw.incidents_rejected"
    )
    assert len(rows) == result.rejected > 0
    reasons = " | ".join(reason for reason, *_ in rows)
    for needle in ("case_number", "incident_datetime", "itude"):  # latitude / longitude
        assert needle in reasons
    for _, payload, case_number, rejected_at in rows:
        record = orjson.loads(payload)
        assert record.get("case_number") == case_number or not case_number
        assert rejected_at is not None
