"""The record of passed dbt unit tests (``ops.unit_test_passes``, u41) behaves the same on
BigQuery as on DuckDB: nothing before the first record, a record per digest, a newer pass of
the same digest replacing the older."""

from __future__ import annotations

from pathlib import Path

from bq_emulator import Emulator

from engines.bigquery.ledger import BigQueryLedger
from engines.duckdb.ledger import DuckDBLedger


def test_same_unit_test_passes_on_both_engines(emulator: Emulator, tmp_path: Path) -> None:
    stores = [
        DuckDBLedger(tmp_path / "w.duckdb"),
        BigQueryLedger(emulator.client(), emulator.project, "memo_", "US"),
    ]
    seen = []
    for store in stores:
        before = store.unit_tests_passed("a" * 64)  # no dataset or table yet
        store.record_unit_tests_passed("a" * 64, "r-1", 4)
        store.record_unit_tests_passed("b" * 64, "r-2", 5)
        store.record_unit_tests_passed("a" * 64, "r-3", 4)  # an upsert, not a second row
        seen.append([before, *(store.unit_tests_passed(c * 64) for c in "abc")])
    assert seen[0] == seen[1] == [None, ("r-3", 4), ("r-2", 5), None]
