"""Where and what: the map of recent incidents and the breakdown by type, for one area.

Areas come from ``fct_incident_areas`` (one row per incident and level, the city included), joined
to ``fct_incidents`` on ``incident_id``: any level the source profile declares works the same way.

Types below the city come from ``fct_incident_counts_by_type``, the published weekly breakdown
with small-cell suppression: a suppressed cell stays suppressed here (never a zero), and the
area-week's ``other (suppressed)`` row carries what the suppressed cells hold, so the bars add up
to the area's count in ``fct_incident_counts``. The city itself is not broken down by that mart
(it is no small area); its types are counted from ``fct_incidents`` over the same weeks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from dashboard.relations import (
    COUNTS,
    COUNTS_BY_TYPE,
    INCIDENT_AREAS,
    INCIDENTS,
    published,
    safe,
)
from engines.reader import Session

CITY_LEVEL = "city"  # dim_geography's level 0; not broken down by fct_incident_counts_by_type
REMAINDER = "other (suppressed)"  # fct_incident_counts_by_type's remainder row
RECENT_DAYS = 30
MAX_MAP_POINTS = 5000
TYPE_WEEKS = 4
LAST_YEAR = timedelta(days=364)  # 52 weeks: compares like weekdays
WEEK_END = timedelta(days=6)  # a week's last day after its Monday


@dataclass
class MapPoints:
    """Incidents of the last days on their generalised grid cells."""

    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    start: date | None = None
    end: date | None = None
    total: int = 0  # incidents in the area and window
    unlocated: int = 0  # of which published without a location (sensitive, or none given)


@dataclass
class TypeBreakdown:
    """Incidents by parent type over the last complete weeks, and the same weeks a year earlier.

    ``types`` has ``incident_type``, ``recent`` and ``last_year`` (published incidents; null when
    every cell was suppressed, or no comparable year), ``recent_suppressed`` and
    ``last_year_suppressed`` (suppressed weeks) and ``is_remainder``.
    """

    types: pd.DataFrame = field(default_factory=pd.DataFrame)
    weeks: tuple[date, date] | None = None  # first and last week (Mondays)
    total: int | None = None  # the area's count over those weeks in fct_incident_counts
    has_last_year: bool = False


def load_points(db: Session, notes: list[str], level: str, geo: str, end: date) -> MapPoints:
    """Located incidents per grid cell (biggest first) over the ``RECENT_DAYS`` up to ``end``."""
    out = MapPoints(start=end - timedelta(days=RECENT_DAYS - 1), end=end)
    # Both checked (no short-circuit): the notes name every relation the map lacks.
    found = [published(db, notes, rel, "no incident map") for rel in (INCIDENTS, INCIDENT_AREAS)]
    if not all(found):
        return out
    scope = (
        f"from {db.rel(*INCIDENT_AREAS)} a join {db.rel(*INCIDENTS)} i "
        "on a.incident_id = i.incident_id where a.geo_level = $level and a.geo = $geo "
        "and a.occurred_date between $start and $end"
    )
    params = {"level": level, "geo": geo, "start": out.start, "end": end}
    located = "i.grid_latitude is not null and i.grid_longitude is not null"
    totals = safe(
        db,
        notes,
        "incident totals",
        f"select count(*) as total, coalesce(sum(case when {located} then 0 else 1 end), 0) "
        f"as unlocated {scope}",
        params,
    )
    if totals.empty:
        return out
    out.total, out.unlocated = int(totals.total.iloc[0]), int(totals.unlocated.iloc[0])
    # Coordinates are already generalised to a ~100 m grid: aggregate per cell.
    out.points = safe(
        db,
        notes,
        "incident locations",
        "select i.grid_latitude as latitude, i.grid_longitude as longitude, "
        f"i.parent_incident_type as incident_type, count(*) as incidents {scope} and {located} "
        f"group by 1, 2, 3 order by incidents desc, 1, 2, 3 nulls last limit {int(MAX_MAP_POINTS)}",
        params,
    )
    return out


def load_types(db: Session, notes: list[str], level: str, geo: str) -> TypeBreakdown:
    """The type breakdown of the last ``TYPE_WEEKS`` complete weeks (``is_complete_period``)."""
    out = TypeBreakdown()
    source = INCIDENTS if level == CITY_LEVEL else COUNTS_BY_TYPE
    if not (
        published(db, notes, COUNTS, "no type breakdown")
        and published(db, notes, source, "no type breakdown")
    ):
        return out
    weeks = safe(
        db,
        notes,
        "weekly counts",
        f"select period_start, incidents, is_complete_period from {db.rel(*COUNTS)} "
        "where freq = 'weekly' and geo_level = $level and geo = $geo order by period_start",
        {"level": level, "geo": geo},
    )
    if weeks.empty or not weeks.is_complete_period.any():
        return out
    weeks["period_start"] = pd.to_datetime(weeks.period_start).dt.date
    complete = weeks[weeks.is_complete_period.astype(bool)]
    recent = complete.tail(TYPE_WEEKS)
    start, end = recent.period_start.iloc[0], recent.period_start.iloc[-1]
    out.weeks, out.total = (start, end), int(recent.incidents.sum())
    # Last year counts only when each of its weeks is published and complete.
    wanted = {w - LAST_YEAR for w in recent.period_start}
    out.has_last_year = wanted <= set(complete.period_start)
    params = {
        "level": level,
        "geo": geo,
        "start": start,
        "end": end,
        "ly_start": start - LAST_YEAR,
        "ly_end": end - LAST_YEAR,
    }
    if level == CITY_LEVEL:
        # Every incident is in the city. Weeks start on Monday (dim_date's week_start_date)
        # and cover 7 days: the last week ends 6 days after its start.
        del params["level"], params["geo"]
        params |= {"end": end + WEEK_END, "ly_end": end - LAST_YEAR + WEEK_END}
        sql = _city_types_sql(db)
    else:
        sql = _area_types_sql(db)
    types = safe(db, notes, "incident types", sql, params)
    if types.empty:
        return out
    if not out.has_last_year:  # an incomplete year earlier is compared with nothing
        types = types.assign(last_year=float("nan"), last_year_suppressed=0)
    types["is_remainder"] = types.incident_type == REMAINDER
    # Drop types with nothing in either window; the remainder stays when it holds anything.
    shown = (
        types[["recent", "last_year"]].fillna(0).sum(axis=1)
        + types[["recent_suppressed", "last_year_suppressed"]].sum(axis=1)
    ) > 0
    out.types = (
        types[shown]
        .sort_values(["is_remainder", "recent", "incident_type"], ascending=[True, False, True])
        .reset_index(drop=True)
    )
    return out


def _area_types_sql(db: Session) -> str:
    recent = "period_start between $start and $end"
    last_year = "period_start between $ly_start and $ly_end"
    # sum() of only suppressed (null) cells is null: shown as suppressed, never as zero.
    return (
        "select parent_incident_type as incident_type, "
        f"sum(case when {recent} then incidents end) as recent, "
        f"sum(case when {recent} and is_suppressed then 1 else 0 end) as recent_suppressed, "
        f"sum(case when {last_year} then incidents end) as last_year, "
        f"sum(case when {last_year} and is_suppressed then 1 else 0 end) "
        "as last_year_suppressed "
        f"from {db.rel(*COUNTS_BY_TYPE)} where freq = 'weekly' and geo_level = $level "
        f"and geo = $geo and ({recent} or {last_year}) group by 1"
    )


def _city_types_sql(db: Session) -> str:
    recent = "occurred_date between $start and $end"
    last_year = "occurred_date between $ly_start and $ly_end"
    return (
        "select parent_incident_type as incident_type, "
        f"sum(case when {recent} then 1 else 0 end) as recent, 0 as recent_suppressed, "
        f"sum(case when {last_year} then 1 else 0 end) as last_year, "
        "0 as last_year_suppressed "
        f"from {db.rel(*INCIDENTS)} where {recent} or {last_year} group by 1"
    )
