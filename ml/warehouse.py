"""The forecaster's view of the warehouse: the store protocol it needs and how to open it.

The store itself is the engine's (``engines.base.MLStore``, built by ``Engine.ml_store`` from
the Arrow schemas in ``ml/tables.py``): ``ml/`` never knows which warehouse it writes to::

    store = open_warehouse(engine)          # engine: engines.engine_for(...)
    counts = store.read_counts("marts")
    store.replace_rows(frame, "audit_ml", "forecasts", key_columns=["forecast_run_id"])

Environment variables read here: none.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from engines.base import MLStore, WarehouseError, checked_identifier
from ml.tables import COUNTS, COUNTS_TABLE, ML_TABLES, STORE_TABLES

Warehouse = MLStore
COUNTS_COLUMNS = COUNTS.names
__all__ = [
    "COUNTS_COLUMNS",
    "COUNTS_TABLE",
    "SOURCE_TYPES",
    "TABLES",
    "Warehouse",
    "WarehouseError",
    "checked_identifier",
    "open_warehouse",
]


def _portable(arrow: pa.DataType) -> str:
    """The portable SQL type name dbt's ``create_ml_sources`` hook reads from the sources YAML."""
    for check, name in (
        (pa.types.is_string, "VARCHAR"),
        (pa.types.is_floating, "DOUBLE"),
        (pa.types.is_integer, "BIGINT"),
        (pa.types.is_boolean, "BOOLEAN"),
        (pa.types.is_date, "DATE"),
        (pa.types.is_timestamp, "TIMESTAMP"),
    ):
        if check(arrow):
            return name
    raise TypeError(f"no portable SQL type for {arrow}")


# Per ML table, column -> portable type: what ``_forecasting__sources.yml`` must declare.
SOURCE_TYPES: dict[str, dict[str, str]] = {
    name: {f.name: _portable(f.type) for f in schema} for name, schema in ML_TABLES.items()
}
# Per ML table, column -> portable type, in column order (frames are built with these names).
TABLES = SOURCE_TYPES


def open_warehouse(engine: Any) -> Warehouse:
    """The forecaster's store on ``engine`` (an ``engines.base.Engine``)."""
    return engine.ml_store(STORE_TABLES, COUNTS_TABLE)
