"""The published relations the dashboard reads, and how a failed read becomes a note.

Only published schemas (``marts``, ``ml``, ``ops``) are read. The columns of these relations are
contracts documented where each is defined (models/marts/**.yml, ml/warehouse.py,
orchestration/ledger.py): the dashboard names them directly, and a mart change that breaks one
shows as a note on the page (and fails the dashboard tests) instead of an exception.
Identifiers come from the constants below; values are always bind parameters.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dashboard.warehouse import Session

GEOGRAPHY = ("marts", "dim_geography")
COUNTS = ("marts", "fct_incident_counts")
COUNTS_BY_TYPE = ("marts", "fct_incident_counts_by_type")
INCIDENTS = ("marts", "fct_incidents")
INCIDENT_AREAS = ("marts", "fct_incident_areas")
FORECASTS = ("marts", "fct_forecasts")
# Forecasts joined to actuals as their periods complete: accuracy measured after the fact.
LIVE_ACCURACY = ("marts", "fct_forecast_accuracy")
# Backtest accuracy per run, freq, geography level ('all' = pooled) and method.
ACCURACY = ("ml", "model_performance")
MODEL_RUNS = ("ml", "model_runs")
LEDGER = ("ops", "run_ledger")

FREQS = ("daily", "weekly", "monthly")


def safe(db: Session, notes: list[str], what: str, sql: str, params: dict) -> pd.DataFrame:
    """Run one query; a failure becomes a note and an empty frame (the page must still render)."""
    try:
        return db.df(sql, params)
    except duckdb.Error as exc:
        notes.append(f"could not read {what}: {str(exc).splitlines()[0]}")
        return pd.DataFrame()


def published(db: Session, notes: list[str], relation: tuple[str, str], why: str) -> bool:
    """True when ``relation`` exists; else a note saying what the page lacks without it."""
    if db.columns(*relation) is not None:
        return True
    notes.append(f"{relation[0]}.{relation[1]} is not published yet: {why}")
    return False
