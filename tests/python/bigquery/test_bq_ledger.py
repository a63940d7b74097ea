"""The run ledger on BigQuery keeps the same rows as on DuckDB (record, recent, reconcile)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bq_emulator import Emulator

from engines.bigquery.ledger import BigQueryLedger
from engines.duckdb.ledger import DuckDBLedger
from orchestration import ledger


def _runs() -> list[ledger.RunRecord]:
    start = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)
    done = ledger.RunRecord(
        run_id="r-done", as_of=date(2025, 6, 9), target="prod", started_at=start, pid=11
    )
    done.steps = {"ingest": {"status": "succeeded", "attempts": 1}, "publish": {"status": "ok"}}
    done.status, done.ended_at, done.rows_fetched = "succeeded", start, 42
    done.notes = ["source drift: new column x"]
    dead = ledger.RunRecord(
        run_id="r-dead",
        as_of=date(2025, 6, 10),
        target="prod",
        started_at=datetime(2025, 6, 11, 6, 0, tzinfo=UTC),
        pid=4242,
        host="box",
    )
    dead.steps = {"ingest": {"status": "running"}}
    dead.error = "earlier"
    return [done, dead]


def test_same_ledger_rows_on_both_engines(emulator: Emulator, tmp_path: Path) -> None:
    stores = [
        DuckDBLedger(tmp_path / "w.duckdb"),
        BigQueryLedger(emulator.client(), emulator.project, "ledger_", "US"),
    ]
    assert stores[1].rows(5) == []  # no dataset yet: no runs yet
    now = datetime(2025, 6, 12, 7, 0, tzinfo=UTC)
    for store in stores:
        for run in _runs():
            ledger.record(store, run)
            ledger.record(store, run)  # an upsert, not a second row
        assert ledger.reconcile(store, now=now) == ["r-dead"]
    duck, bq = (ledger.recent(s) for s in stores)
    assert [r["run_id"] for r in bq] == ["r-dead", "r-done"]
    assert bq == duck
    assert bq[0]["status"] == "abandoned" and bq[0]["error"].startswith("earlier; process 4242")
    assert ledger.last_published_as_of(stores[1]) == date(2025, 6, 9)
