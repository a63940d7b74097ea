"""The run ledger names a load that an interrupted run left pending and this run finished.

k31: an ingest finishes such a load before its own (``ingestion.recovery``) and lists it in
``IngestResult.recovered``; ``blotter run`` keeps it among the ingest step's notes, next to
drift and quarantined records, so ``blotter runs`` shows it without reading the logs.
"""

from __future__ import annotations

from ingestion.pipeline import IngestResult
from orchestration.steps import ingest_notes


def _result(**fields: object) -> IngestResult:
    base = {
        "fetched": 10,
        "loaded": 9,
        "rejected": 1,
        "load_id": "1.2",
        "seconds": 0.1,
        "source": "http://replay",
    }
    return IngestResult(**{**base, **fields})  # type: ignore[arg-type]


def test_a_recovered_load_is_a_note() -> None:
    line = "finished load 1.1 that an interrupted run left pending (incidents 5); 5 duplicate rows"
    notes = ingest_notes(_result(recovered=[line], drift=["new column zip"]))
    assert notes == ["source drift: new column zip", f"recovered: {line}"]


def test_an_ordinary_ingest_has_no_note() -> None:
    assert ingest_notes(_result()) == []
