"""The ``ml.*`` tables and the count mart the forecaster reads, declared once as Arrow schemas.

Each engine derives its DDL from these schemas (``engines/duckdb/ml_store.py``,
``engines/bigquery/ml_store.py``); ``models/marts/forecasting/_forecasting__sources.yml`` keeps
the column descriptions (and the portable types dbt's ``create_ml_sources`` hook creates empty
tables from), and ``tests/python/ml/test_ml_tables.py`` checks that it names these columns.
Timestamps are naive UTC (``DATETIME`` on BigQuery, as the dbt contracts say).

Environment variables read here: none.
"""

from __future__ import annotations

import pyarrow as pa

_TEXT, _FLOAT, _INT = pa.string(), pa.float64(), pa.int64()
_TS = pa.timestamp("us")

COUNTS_TABLE = "fct_incident_counts"
# The columns of the count mart (dbt's contract) the forecaster reads.
COUNTS = pa.schema(
    [
        ("period_start", pa.date32()),
        ("freq", _TEXT),
        ("geo_level", _TEXT),
        ("geo", _TEXT),
        ("incidents", _INT),
        ("is_complete_period", pa.bool_()),
    ]
)

FORECASTS = pa.schema(
    [
        ("forecast_run_id", _TEXT),
        ("model_version", _TEXT),
        ("freq", _TEXT),
        ("geo_level", _TEXT),
        ("geo", _TEXT),
        ("period_start", pa.date32()),
        ("yhat", _FLOAT),
        ("yhat_lower_80", _FLOAT),
        ("yhat_upper_80", _FLOAT),
        ("yhat_lower_95", _FLOAT),
        ("yhat_upper_95", _FLOAT),
        ("created_at", _TS),
    ]
)
MODEL_PERFORMANCE = pa.schema(
    [
        ("forecast_run_id", _TEXT),
        ("model_version", _TEXT),
        ("freq", _TEXT),
        ("geo_level", _TEXT),
        ("method", _TEXT),
        ("is_selected", pa.bool_()),
        ("n", _INT),
        ("mae", _FLOAT),
        ("rmse", _FLOAT),
        ("mase", _FLOAT),
        ("mae_seasonal_naive", _FLOAT),
        ("coverage_80", _FLOAT),
        ("coverage_95", _FLOAT),
        ("backtest_origins", _INT),
        ("created_at", _TS),
    ]
)
MODEL_RUNS = pa.schema(
    [
        ("run_id", _TEXT),
        ("model_version", _TEXT),
        ("status", _TEXT),
        ("trained_at", _TS),
        ("data_cutoff", pa.date32()),
        ("params", _TEXT),
        ("metrics", _TEXT),
        ("score", _FLOAT),
        ("status_reason", _TEXT),
        ("promoted_at", _TS),
        ("updated_at", _TS),
    ]
)

# The tables of schema ``ml`` the forecaster writes.
ML_TABLES: dict[str, pa.Schema] = {
    "forecasts": FORECASTS,
    "model_performance": MODEL_PERFORMANCE,
    "model_runs": MODEL_RUNS,
}
# Everything the ML store reads or writes (what ``Engine.ml_store`` is given).
STORE_TABLES: dict[str, pa.Schema] = {COUNTS_TABLE: COUNTS, **ML_TABLES}
# Column names per ML table, in order (frames are built and checked with these).
COLUMNS: dict[str, list[str]] = {name: schema.names for name, schema in ML_TABLES.items()}
