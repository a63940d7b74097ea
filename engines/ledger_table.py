"""The run ledger's row, declared once: each engine derives its ``ops.run_ledger`` from it.

JSON columns are strings tagged ``json`` (DuckDB stores them as JSON, BigQuery as STRING holding
JSON text); timestamps are UTC. What the rows mean (statuses, abandoned runs) is
``orchestration.ledger``'s business.

Environment variables read here: none.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA = "ops"
TABLE = "run_ledger"
_JSON = {b"json": b"true"}
_UTC = pa.timestamp("us", tz="UTC")

LEDGER = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("steps", pa.string(), metadata=_JSON),
        pa.field("started_at", _UTC, nullable=False),
        pa.field("ended_at", _UTC),
        pa.field("rows_fetched", pa.int64()),
        pa.field("rows_loaded", pa.int64()),
        pa.field("rows_rejected", pa.int64()),
        pa.field("tests_passed", pa.int64()),
        pa.field("tests_failed", pa.int64()),
        pa.field("failing_tests", pa.string(), metadata=_JSON),
        pa.field("error", pa.string()),
        pa.field("command", pa.string()),
        pa.field("pid", pa.int64()),
        pa.field("host", pa.string()),
        pa.field("notes", pa.string(), metadata=_JSON),
    ]
)
COLUMNS: tuple[str, ...] = tuple(LEDGER.names)
KEY = "run_id"
# Digests of code whose dbt unit tests passed, one row per digest (orchestration.unit_test_memo).
PASSES = "unit_test_passes"


def is_json(field: pa.Field) -> bool:
    """True for a column holding JSON text."""
    return bool(field.metadata) and field.metadata.get(b"json") == b"true"
