"""The dashboard's queries: aggregated in SQL, tolerant of tables that do not exist yet.

Every loader returns plain DataFrames plus ``notes`` (one line per table it could not read), so
the app can show an informative empty state instead of an exception. Only published schemas
(``marts``, ``ml``, ``ops``) are read. Identifiers come from the constants below; values are
always bind parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.warehouse import Reader, Session

GEO_LEVELS = ("city", "police_district", "council_district", "neighborhood")
FREQS = ("daily", "weekly", "monthly")
COUNTS = ("marts", "fct_incident_counts")
INCIDENTS = ("marts", "fct_incidents")
# First existing relation wins: the mart names may still change while the ML mart settles.
FORECASTS = (("marts", "fct_forecasts"), ("marts", "fct_incident_forecasts"), ("ml", "forecasts"))
# Backtest accuracy per run, method, freq and level (written by ml/).
ACCURACY = (("ml", "model_performance"),)
# Forecasts joined to actuals as periods complete (dbt): accuracy measured after the fact.
LIVE_ACCURACY = ("marts", "fct_forecast_accuracy")
MODEL_RUNS = ("ml", "model_runs")
LEDGER = ("ops", "run_ledger")
MODEL_COLUMNS = ("run_id", "model_version", "status", "trained_at", "data_cutoff", "score")
# Candidate column names in fct_incidents, most preferred first.
DATE_COLUMNS = ("occurred_date", "incident_date", "occurred_on")
TYPE_COLUMNS = (
    "parent_incident_type",
    "incident_parent_type",
    "parent_type",
    "incident_category",
    "offense_category",
    "incident_type_primary",
    "incident_type",
)
LAT_COLUMNS = ("grid_latitude", "latitude")
LON_COLUMNS = ("grid_longitude", "longitude")
GEO_COLUMNS = {lvl: (lvl, f"{lvl}_name") for lvl in GEO_LEVELS if lvl != "city"}
HISTORY = {
    "daily": timedelta(days=120),
    "weekly": timedelta(weeks=78),
    "monthly": timedelta(days=1100),
}
RECENT_DAYS = 30
MAX_MAP_POINTS = 5000
LAST_YEAR = timedelta(days=364)  # 52 weeks: compares like weekdays


@dataclass
class Overview:
    """What does not depend on the selected area."""

    geos: dict[str, list[str]] = field(default_factory=dict)
    last_data_day: date | None = None
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    models: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        """Changes whenever a run publishes (or fails): the cache key of area data."""
        if self.runs.empty:
            return f"{self.last_data_day}"
        latest = self.runs.iloc[0]
        return f"{self.last_data_day}|{latest['run_id']}|{latest['status']}"


@dataclass
class AreaView:
    """Everything shown for one frequency × geography level × area."""

    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    actuals: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecasts: pd.DataFrame = field(default_factory=pd.DataFrame)
    types: pd.DataFrame = field(default_factory=pd.DataFrame)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    accuracy: pd.DataFrame = field(default_factory=pd.DataFrame)
    live: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


def _first(candidates: tuple[str, ...], columns: list[str]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def _existing(db: Session, relations: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    return next((r for r in relations if db.columns(*r) is not None), None)


def _safe(db: Session, notes: list[str], what: str, sql: str, params: dict) -> pd.DataFrame:
    """Run one query; a failure becomes a note and an empty frame (the page must still render)."""
    try:
        return db.df(sql, params)
    except duckdb.Error as exc:
        notes.append(f"could not read {what}: {str(exc).splitlines()[0]}")
        return pd.DataFrame()


def _missing(notes: list[str], schema: str, table: str, why: str) -> None:
    notes.append(f"{schema}.{table} is not published yet: {why}")


def _without_dead_runs(runs: pd.DataFrame, path: Path | None) -> pd.DataFrame:
    """A ``running`` row while nobody holds the run lock is a killed run: show it abandoned.

    The next ``blotter`` command records that in the ledger; the page need not wait for it.
    """
    if runs.empty or path is None or not (runs["status"] == "running").any():
        return runs
    from orchestration.lock import is_held

    if is_held(path):
        return runs
    runs = runs.copy()
    dead = runs["status"] == "running"
    runs.loc[dead, "status"] = "abandoned"
    runs.loc[dead, "error"] = "the run ended without finishing (killed?)"
    return runs


def load_overview(reader: Reader) -> Overview:
    """Area options, the last day of data, recent runs and the model registry."""
    out = Overview()
    with reader.session() as db:
        if db.columns(*COUNTS) is None:
            _missing(out.notes, *COUNTS, "no incident counts to show")
        else:
            counts = db.rel(*COUNTS)
            geos = _safe(
                db,
                out.notes,
                "area list",
                f"select geo_level, geo from {counts} where freq = 'daily' "
                "group by geo_level, geo order by geo_level, geo = 'UNKNOWN', geo",
                {},
            )
            for level in GEO_LEVELS:
                if not geos.empty:
                    out.geos[level] = geos.loc[geos.geo_level == level, "geo"].tolist()
            last = _safe(
                db,
                out.notes,
                "last day of data",
                f"select max(period_start) as d from {counts} where freq = 'daily'",
                {},
            )
            if not last.empty and pd.notna(last.d.iloc[0]):
                out.last_data_day = pd.Timestamp(last.d.iloc[0]).date()
        if db.columns(*LEDGER) is None:
            _missing(out.notes, *LEDGER, "no run recorded")
        else:
            out.runs = _safe(
                db,
                out.notes,
                "run ledger",
                "select run_id, as_of, target, status, started_at, ended_at, error "
                f"from {db.rel(*LEDGER)} order by started_at desc, run_id desc limit 20",
                {},
            )
            out.runs = _without_dead_runs(out.runs, getattr(reader, "path", None))
        columns = db.columns(*MODEL_RUNS)
        if columns is None:
            _missing(out.notes, *MODEL_RUNS, "no model registered")
        else:
            shown = ", ".join(c for c in MODEL_COLUMNS if c in columns) or "*"
            where = "where status = 'champion'" if "status" in columns else ""
            order = "order by trained_at desc" if "trained_at" in columns else ""
            out.models = _safe(
                db,
                out.notes,
                "model registry",
                f"select {shown} from {db.rel(*MODEL_RUNS)} {where} {order} limit 5",
                {},
            )
    return out


def load_area(
    reader: Reader, freq: str, geo_level: str, geo: str, last_data_day: date | None
) -> AreaView:
    """Series, forecast, incident types, map points and accuracy for one area."""
    if freq not in FREQS or geo_level not in GEO_LEVELS:
        raise ValueError(f"unknown freq {freq!r} or geography level {geo_level!r}")
    out = AreaView()
    ref = last_data_day or date.today()
    key = {"freq": freq, "level": geo_level, "geo": geo}
    with reader.session() as db:
        if db.columns(*COUNTS) is not None:
            counts = db.rel(*COUNTS)
            out.daily = _safe(
                db,
                out.notes,
                "daily counts",
                f"select period_start, incidents from {counts} where freq = 'daily' "
                "and geo_level = $level and geo = $geo and period_start >= $since "
                "order by period_start",
                {"level": geo_level, "geo": geo, "since": ref - LAST_YEAR - timedelta(days=35)},
            )
            complete = (
                "is_complete_period"
                if "is_complete_period" in (db.columns(*COUNTS) or [])
                else "true as is_complete_period"
            )
            out.actuals = _safe(
                db,
                out.notes,
                "incident counts",
                f"select period_start, incidents, {complete} from {counts} "
                "where freq = $freq and geo_level = $level and geo = $geo "
                "and period_start >= $since order by period_start",
                {**key, "since": ref - HISTORY[freq]},
            )
        _load_forecasts(db, out, key)
        _load_incidents(db, out, geo_level, geo, ref)
        _load_accuracy(db, out, freq, geo_level)
        _load_live_accuracy(db, out, key)
    return out


def _load_forecasts(db: Session, out: AreaView, key: dict) -> None:
    relation = _existing(db, FORECASTS)
    if relation is None:
        _missing(out.notes, *FORECASTS[0], "no forecasts to show")
        return
    # The latest forecast run is the one with the latest forecast origin.
    out.forecasts = _safe(
        db,
        out.notes,
        "forecasts",
        f"with area as (select * from {db.rel(*relation)} "
        "where freq = $freq and geo_level = $level and geo = $geo), "
        "latest as (select forecast_run_id from area group by forecast_run_id "
        "order by min(period_start) desc, forecast_run_id desc limit 1) "
        "select period_start, yhat, yhat_lower_80, yhat_upper_80, yhat_lower_95, yhat_upper_95, "
        "model_version, forecast_run_id from area "
        "where forecast_run_id in (select forecast_run_id from latest) order by period_start",
        key,
    )


def _load_incidents(db: Session, out: AreaView, geo_level: str, geo: str, ref: date) -> None:
    columns = db.columns(*INCIDENTS)
    if columns is None:
        _missing(out.notes, *INCIDENTS, "no incident map or type breakdown")
        return
    day, kind = _first(DATE_COLUMNS, columns), _first(TYPE_COLUMNS, columns)
    lat, lon = _first(LAT_COLUMNS, columns), _first(LON_COLUMNS, columns)
    if day is None:
        out.notes.append("marts.fct_incidents has no date column the dashboard knows")
        return
    area, params = "", {"start": ref - timedelta(days=RECENT_DAYS - 1), "end": ref}
    if geo_level != "city":
        column = _first(GEO_COLUMNS[geo_level], columns)
        if column is None:
            out.notes.append(f"marts.fct_incidents has no {geo_level} column: showing the city")
        else:
            area, params["geo"] = f" and coalesce(\"{column}\", 'UNKNOWN') = $geo", geo
    rel, kind_sql = db.rel(*INCIDENTS), f"coalesce(\"{kind}\", 'Unknown')" if kind else "'All'"
    if kind is not None:
        out.types = _safe(
            db,
            out.notes,
            "incident types",
            f"select {kind_sql} as incident_type, "
            f'count(*) filter (where "{day}" between $start and $end) as recent, '
            f'count(*) filter (where "{day}" between $ly_start and $ly_end) as last_year '
            f'from {rel} where ("{day}" between $start and $end '
            f'or "{day}" between $ly_start and $ly_end){area} '
            "group by 1 order by recent desc",
            {**params, "ly_start": params["start"] - LAST_YEAR, "ly_end": ref - LAST_YEAR},
        )
    if lat is None or lon is None:
        out.notes.append("marts.fct_incidents has no coordinates: no map")
        return
    # Coordinates are already generalised to a ~100 m grid: aggregate per cell, biggest first.
    out.points = _safe(
        db,
        out.notes,
        "incident locations",
        f'select "{lat}" as latitude, "{lon}" as longitude, {kind_sql} as incident_type, '
        f'count(*) as incidents from {rel} where "{day}" between $start and $end{area} '
        f'and "{lat}" is not null and "{lon}" is not null '
        "group by 1, 2, 3 order by incidents desc, 1, 2 limit $limit",
        {**params, "limit": MAX_MAP_POINTS},
    )


def _load_accuracy(db: Session, out: AreaView, freq: str, geo_level: str) -> None:
    relation = _existing(db, ACCURACY)
    if relation is None:
        _missing(out.notes, *ACCURACY[0], "no measured accuracy yet")
        return
    columns = db.columns(*relation) or []
    params = {c: v for c, v in (("freq", freq), ("geo_level", geo_level)) if c in columns}
    filters = [f"{c} = ${c}" for c in params]
    rel = db.rel(*relation)
    if "forecast_run_id" in columns:
        # The backtest of the run whose forecasts are shown, else the latest backtest.
        run = out.forecasts["forecast_run_id"].iloc[0] if not out.forecasts.empty else None
        latest = "order by created_at desc" if "created_at" in columns else ""
        params["run"] = run
        filters.append(
            "forecast_run_id = coalesce((select max(forecast_run_id) from "
            f"{rel} where forecast_run_id = $run), (select forecast_run_id from {rel} "
            f"{latest} limit 1))"
        )
    where = f"where {' and '.join(filters)}" if filters else ""
    order = "order by is_selected desc" if "is_selected" in columns else ""
    out.accuracy = _safe(
        db, out.notes, "forecast accuracy", f"select * from {rel} {where} {order} limit 50", params
    )


def _load_live_accuracy(db: Session, out: AreaView, key: dict) -> None:
    columns = db.columns(*LIVE_ACCURACY)
    needed = ("model_version", "abs_error", "in_interval_80", "in_interval_95", "period_start")
    if columns is None:
        _missing(out.notes, *LIVE_ACCURACY, "no forecast has met its actuals yet")
        return
    if any(c not in columns for c in needed):
        out.notes.append("marts.fct_forecast_accuracy lacks the columns the dashboard reads")
        return
    status = "max(run_status)" if "run_status" in columns else "null"
    out.live = _safe(
        db,
        out.notes,
        "measured accuracy",
        f"select model_version, {status} as run_status, count(*) as periods, "
        "min(period_start) as first_period, max(period_start) as last_period, "
        "avg(abs_error) as mae, "
        "avg(case when in_interval_80 then 1.0 else 0.0 end) as coverage_80, "
        "avg(case when in_interval_95 then 1.0 else 0.0 end) as coverage_95 "
        f"from {db.rel(*LIVE_ACCURACY)} where freq = $freq and geo_level = $level "
        "and geo = $geo and abs_error is not null "
        "group by model_version order by last_period desc, model_version",
        key,
    )
