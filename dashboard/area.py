"""Everything the page shows for one frequency × geography level × area.

Counts carry the mart's ``is_complete_period`` (the definition the marts and the forecasts use):
the charts mark incomplete periods from it and the headline numbers compare complete days only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from dashboard.incidents import LAST_YEAR, MapPoints, TypeBreakdown, load_points, load_types
from dashboard.relations import (
    COUNTS,
    FORECASTS,
    LIVE_ACCURACY,
    MODELS,
    PERFORMANCE,
    published,
    safe,
)
from engines.reader import Reader, Session
from ml.config import FREQS  # the frequencies, defined once

HISTORY = {
    "daily": timedelta(days=120),
    "weekly": timedelta(weeks=78),
    "monthly": timedelta(days=1100),
}
# Daily counts the headlines need: 28 days a year back, plus the reporting lag and slack.
HEADLINE_HISTORY = LAST_YEAR + timedelta(days=60)


@dataclass
class AreaView:
    """Everything shown for one frequency × geography level × area."""

    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    actuals: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecasts: pd.DataFrame = field(default_factory=pd.DataFrame)
    types: TypeBreakdown = field(default_factory=TypeBreakdown)
    points: MapPoints = field(default_factory=MapPoints)
    accuracy: pd.DataFrame = field(default_factory=pd.DataFrame)
    serving: pd.DataFrame = field(default_factory=pd.DataFrame)
    live: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


def load_area(
    reader: Reader, freq: str, geo_level: str, geo: str, last_data_day: date | None
) -> AreaView:
    """Series, forecast, incident types, map points and accuracy for one area.

    Args:
        reader: the warehouse.
        freq: daily, weekly or monthly (the forecast chart's period).
        geo_level: a level of ``dim_geography`` (bound as a value: any string is safe).
        geo: an area of that level.
        last_data_day: the last day with an incident (the map's window ends there).
    """
    if freq not in FREQS:
        raise ValueError(f"unknown freq {freq!r}: one of {', '.join(FREQS)}")
    out = AreaView()
    ref = last_data_day or date.today()
    key = {"freq": freq, "level": geo_level, "geo": geo}
    with reader.session() as db:
        if published(db, out.notes, COUNTS, "no incident counts to show"):
            series = (
                f"select period_start, incidents, is_complete_period from {db.rel(*COUNTS)} "
                "where freq = $freq and geo_level = $level and geo = $geo "
                "and period_start >= $since order by period_start"
            )
            out.daily = safe(
                db,
                out.notes,
                "daily counts",
                series,
                {**key, "freq": "daily", "since": ref - HEADLINE_HISTORY},
            )
            out.actuals = safe(
                db, out.notes, "incident counts", series, {**key, "since": ref - HISTORY[freq]}
            )
        _load_forecasts(db, out, key)
        out.points = load_points(db, out.notes, geo_level, geo, ref)
        out.types = load_types(db, out.notes, geo_level, geo)
        run = _shown_run(db, out)
        if run is not None:
            _load_accuracy(db, out, run, freq, geo_level)
            _load_serving(db, out, run, freq)
        _load_live_accuracy(db, out, key)
    return out


def _load_forecasts(db: Session, out: AreaView, key: dict) -> None:
    # fct_forecasts serves the champion run only: one forecast per period.
    if not published(db, out.notes, FORECASTS, "no forecasts to show"):
        return
    out.forecasts = safe(
        db,
        out.notes,
        "forecasts",
        "select period_start, horizon, yhat, yhat_lower_80, yhat_upper_80, yhat_lower_95, "
        "yhat_upper_95, model_version, forecast_run_id "
        f"from {db.rel(*FORECASTS)} where freq = $freq and geo_level = $level and geo = $geo "
        "order by period_start",
        key,
    )


def _shown_run(db: Session, out: AreaView) -> str | None:
    """The run whose forecasts are shown; without forecasts the latest run with a backtest."""
    if not out.forecasts.empty:
        return str(out.forecasts["forecast_run_id"].iloc[0])
    if not published(db, out.notes, PERFORMANCE, "no measured accuracy yet"):
        return None
    latest = safe(
        db,
        out.notes,
        "latest backtest",
        f"select forecast_run_id from {db.rel(*PERFORMANCE)} "
        "order by created_at desc nulls last, forecast_run_id desc limit 1",
        {},
    )
    return None if latest.empty else str(latest["forecast_run_id"].iloc[0])


def _load_accuracy(db: Session, out: AreaView, run: str, freq: str, geo_level: str) -> None:
    """The backtest of ``run`` for this freq and level: every method, the selection first."""
    if not published(db, out.notes, PERFORMANCE, "no measured accuracy yet"):
        return
    out.accuracy = safe(
        db,
        out.notes,
        "forecast accuracy",
        "select method, is_selected, mae, rmse, mase, coverage_80, coverage_95, n "
        f"from {db.rel(*PERFORMANCE)} where forecast_run_id = $run and freq = $freq "
        "and geo_level = $level order by is_selected desc, mase nulls last, method limit 50",
        {"run": run, "freq": freq, "level": geo_level},
    )


def _load_serving(db: Session, out: AreaView, run: str, freq: str) -> None:
    """Which method served each level x horizon bucket of ``run`` at ``freq``."""
    if not published(db, out.notes, MODELS, "no model registered"):
        return
    out.serving = safe(
        db,
        out.notes,
        "serving methods",
        "select geo_level, horizon_bucket, serving_method "
        f"from {db.rel(*MODELS)} where forecast_run_id = $run and freq = $freq "
        "order by horizon_bucket_order, geo_level",
        {"run": run, "freq": freq},
    )


def _load_live_accuracy(db: Session, out: AreaView, key: dict) -> None:
    if not published(db, out.notes, LIVE_ACCURACY, "no forecast has met its actuals yet"):
        return
    out.live = safe(
        db,
        out.notes,
        "measured accuracy",
        "select model_version, max(run_status) as run_status, count(*) as periods, "
        "min(period_start) as first_period, max(period_start) as last_period, "
        "avg(abs_error) as mae, "
        "avg(case when in_interval_80 then 1.0 else 0.0 end) as coverage_80, "
        "avg(case when in_interval_95 then 1.0 else 0.0 end) as coverage_95 "
        f"from {db.rel(*LIVE_ACCURACY)} where freq = $freq and geo_level = $level "
        "and geo = $geo and abs_error is not null "
        "group by model_version order by last_period desc, model_version",
        key,
    )
