"""The published marts the dashboard reads, and how a failed read becomes a note.

Only contracted marts are read (schema ``marts``): their columns are documented and tested where
each is defined (``models/marts/**/_*.yml``), and the dashboard names them directly. A mart
change that breaks one shows as a note on the page (and fails the dashboard tests) instead of an
exception. Identifiers come from the constants below; values are always bind parameters; the
SQL is valid on every engine a reader serves (``engines/reader.py``): no DuckDB-only clauses,
and an ascending sort on a nullable column says ``nulls last`` (BigQuery puts nulls first).
"""

from __future__ import annotations

import pandas as pd

from engines.reader import QueryFailed, Session

GEOGRAPHY = ("marts", "dim_geography")
COUNTS = ("marts", "fct_incident_counts")
COUNTS_BY_TYPE = ("marts", "fct_incident_counts_by_type")
INCIDENTS = ("marts", "fct_incidents")
INCIDENT_AREAS = ("marts", "fct_incident_areas")
FORECASTS = ("marts", "fct_forecasts")
# Forecasts joined to actuals as their periods complete: accuracy measured after the fact.
LIVE_ACCURACY = ("marts", "fct_forecast_accuracy")
# Backtest accuracy per run, freq, geography level ('all' = pooled) and method.
PERFORMANCE = ("marts", "fct_forecast_performance")
# The registry: per run, freq, level and horizon bucket the method that served.
MODELS = ("marts", "dim_forecast_models")
RUNS = ("marts", "fct_pipeline_runs")

RELATIONS = (
    GEOGRAPHY,
    COUNTS,
    COUNTS_BY_TYPE,
    INCIDENTS,
    INCIDENT_AREAS,
    FORECASTS,
    LIVE_ACCURACY,
    PERFORMANCE,
    MODELS,
    RUNS,
)


def safe(db: Session, notes: list[str], what: str, sql: str, params: dict) -> pd.DataFrame:
    """Run one query; a failure becomes a note and an empty frame (the page must still render)."""
    try:
        return db.df(sql, params)
    except QueryFailed as exc:
        notes.append(f"could not read {what}: {exc}")
        return pd.DataFrame()


def published(db: Session, notes: list[str], relation: tuple[str, str], why: str) -> bool:
    """True when ``relation`` exists; else a note saying what the page lacks without it."""
    if db.columns(*relation) is not None:
        return True
    notes.append(f"{relation[0]}.{relation[1]} is not published yet: {why}")
    return False
