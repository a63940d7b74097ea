"""The dashboard's data layer on warehouses built by the real pipeline (no browser).

``healthy_db`` is the replay city after ``blotter run``; ``chicago_db`` the real Chicago sample
after ingest and ``dbt run``. Expected numbers are read from the marts with SQL of their own, so
a mart change that breaks the dashboard fails here.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from dashboard import charts, status
from dashboard.area import load_area
from dashboard.incidents import LAST_YEAR, REMAINDER, TYPE_WEEKS
from dashboard.overview import Overview, load_overview
from engines.duckdb.reader import DuckDBReader

DASHBOARD = Path(__file__).resolve().parents[3] / "dashboard"


def _q(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def overview(healthy_db: Path) -> Overview:
    return load_overview(DuckDBReader(healthy_db))


def _rows(frame: pd.DataFrame, day: str, value: str) -> list[tuple]:
    """(date, value) pairs of a frame read by the dashboard, comparable with fetchall()."""
    days = pd.to_datetime(frame[day]).dt.date
    return list(zip(days, frame[value].tolist(), strict=True))


def _daily_sum(db: Path, level: str, geo: str, start: date, end: date) -> int:
    return _q(
        db,
        "select coalesce(sum(incidents), 0) from marts.fct_incident_counts where freq = 'daily' "
        "and geo_level = ? and geo = ? and period_start between ? and ?",
        [level, geo, start, end],
    )[0][0]


def test_levels_labels_and_areas_come_from_dim_geography(
    healthy_db: Path, overview: Overview
) -> None:
    """Issue 13: levels, their order and labels are the profile's, read from dim_geography."""
    assert overview.notes == []
    levels = _q(
        healthy_db,
        "select distinct level_order, geo_level, geo_level_label from marts.dim_geography "
        "order by level_order",
    )
    assert [(lv.order, lv.name, lv.label) for lv in overview.levels] == levels
    labels = [lv.label for lv in overview.levels]
    assert labels == ["City", "Police district", "Council district", "Neighborhood"]
    for level in overview.levels:
        areas = _q(
            healthy_db,
            "select geo from marts.dim_geography where geo_level = ? and has_incidents "
            "order by is_unknown_bucket, geo",
            [level.name],
        )
        assert overview.geos[level.name] == [geo for (geo,) in areas]
    assert overview.geos["city"] == ["Buffalo"]
    assert overview.geos["police_district"][-1] == "UNKNOWN"  # the unknown bucket sorts last
    (last_day,) = _q(healthy_db, "select max(occurred_date) from marts.fct_incidents")[0]
    assert overview.last_data_day == last_day
    assert overview.runs["status"].tolist() == ["succeeded"]
    champion = _q(healthy_db, "select model_version from ml.model_runs where status = 'champion'")
    assert overview.models["model_version"].tolist() == [v for (v,) in champion]
    assert "params" not in overview.models.columns  # long JSON stays out of the page


def test_a_chicago_warehouse_shows_chicagos_levels(chicago_db: Path) -> None:
    """Issue 13: another profile, other levels and labels, and every level has its data."""
    reader = DuckDBReader(chicago_db)
    overview = load_overview(reader)
    assert [lv.name for lv in overview.levels] == [
        "city",
        "district",
        "ward",
        "community_area",
        "beat",
    ]
    assert overview.labels["ward"] == "Ward"
    assert overview.labels["community_area"] == "Community area"
    assert overview.geos["city"] == ["Chicago"]
    for level in overview.levels[1:]:
        geo = overview.geos[level.name][0]
        view = load_area(reader, "daily", level.name, geo, overview.last_data_day)
        (dated,) = _q(
            chicago_db,
            "select count(*) from marts.fct_incident_areas where geo_level = ? and geo = ? "
            "and occurred_date is not null",
            [level.name, geo],
        )[0]
        assert dated > 0 and view.actuals["incidents"].sum() == dated
        end = overview.last_data_day
        start = end - timedelta(days=29)
        assert view.points.total == _daily_sum(chicago_db, level.name, geo, start, end)


def test_the_map_shows_each_areas_own_incidents(healthy_db: Path, overview: Overview) -> None:
    """Issue 13: the map of any level reads fct_incident_areas (joined on incident_id)."""
    reader = DuckDBReader(healthy_db)
    end = overview.last_data_day
    start = end - timedelta(days=29)
    totals = set()
    for level in overview.levels:
        geo = overview.geos[level.name][0]
        view = load_area(reader, "weekly", level.name, geo, end)
        assert view.notes == [], view.notes
        expected = _daily_sum(healthy_db, level.name, geo, start, end)
        located = view.points.points
        assert view.points.total == expected > 0
        assert located["incidents"].sum() + view.points.unlocated == expected
        (sensitive,) = _q(
            healthy_db,
            "select count(*) from marts.fct_incident_areas a join marts.fct_incidents i "
            "using (incident_id) where a.geo_level = ? and a.geo = ? and i.is_sensitive "
            "and a.occurred_date between ? and ?",
            [level.name, geo, start, end],
        )[0]
        assert view.points.unlocated >= sensitive  # sensitive offences have no coordinates
        totals.add(expected)
    assert len(totals) == len(overview.levels)  # each level shows its own area, not the city


def _suppressed_area(db: Path, start: date, end: date) -> tuple[str, str]:
    """An area whose breakdown over the weeks has a type suppressed in every week."""
    rows = _q(
        db,
        "select geo_level, geo from marts.fct_incident_counts_by_type "
        "where period_start between ? and ? and parent_incident_type != ? "
        "group by geo_level, geo, parent_incident_type "
        "having bool_and(is_suppressed) order by geo_level, geo limit 1",
        [start, end, REMAINDER],
    )
    assert rows, "the replay window has no fully suppressed type: nothing to check"
    return rows[0]


def test_types_show_suppression_and_reconcile_with_the_area_total(
    healthy_db: Path, overview: Overview
) -> None:
    """Issue 12.15: suppressed cells stay suppressed, the remainder is shown, sums reconcile."""
    (last_week,) = _q(
        healthy_db,
        "select max(period_start) from marts.fct_incident_counts where freq = 'weekly' "
        "and is_complete_period",
    )[0]
    first_week = last_week - timedelta(weeks=TYPE_WEEKS - 1)
    level, geo = _suppressed_area(healthy_db, first_week, last_week)
    breakdown = load_area(DuckDBReader(healthy_db), "weekly", level, geo, None).types
    assert breakdown.weeks == (first_week, last_week)
    (total,) = _q(
        healthy_db,
        "select sum(incidents) from marts.fct_incident_counts where freq = 'weekly' "
        "and geo_level = ? and geo = ? and period_start between ? and ?",
        [level, geo, first_week, last_week],
    )[0]
    types = breakdown.types.set_index("incident_type")
    assert breakdown.total == total
    assert types["recent"].fillna(0).sum() == total  # the bars add up to the area's count
    assert types.loc[REMAINDER, "is_remainder"] and types["is_remainder"].sum() == 1
    cells = _q(
        healthy_db,
        "select parent_incident_type, sum(incidents), count(*) filter (where is_suppressed) "
        "from marts.fct_incident_counts_by_type where geo_level = ? and geo = ? "
        "and period_start between ? and ? group by 1",
        [level, geo, first_week, last_week],
    )
    fully_suppressed = [kind for kind, published, _ in cells if published is None]
    assert fully_suppressed
    for kind, published, suppressed in cells:
        if kind not in types.index:  # nothing in either window
            assert not published and not suppressed
            continue
        assert types.loc[kind, "recent_suppressed"] == suppressed
        if published is None:
            assert pd.isna(types.loc[kind, "recent"])  # suppressed, never a zero
        else:
            assert types.loc[kind, "recent"] == published
    labels = set(charts.type_labels(breakdown.types))
    assert REMAINDER in labels
    assert {f"{kind} (suppressed)" for kind in fully_suppressed} <= labels

    # The city is not broken down by the mart: counted from fct_incidents, no suppression.
    city = load_area(DuckDBReader(healthy_db), "weekly", "city", "Buffalo", None).types
    (city_total, city_last_year) = _q(
        healthy_db,
        "select sum(incidents) filter (where period_start between ? and ?), "
        "sum(incidents) filter (where period_start between ? and ?) "
        "from marts.fct_incident_counts where freq = 'weekly' and geo_level = 'city'",
        [first_week, last_week, first_week - LAST_YEAR, last_week - LAST_YEAR],
    )[0]
    assert city.total == city.types["recent"].sum() == city_total
    assert city.has_last_year and city.types["last_year"].sum() == city_last_year
    assert not city.types["is_remainder"].any()


def test_headlines_and_charts_follow_is_complete_period(
    healthy_db: Path, overview: Overview
) -> None:
    """Issue 12.11: incomplete days are never compared; charts mark the mart's partial periods."""
    reader = DuckDBReader(healthy_db)
    view = load_area(reader, "weekly", "city", "Buffalo", overview.last_data_day)
    heads = status.headlines(view.daily)
    (last_complete,) = _q(
        healthy_db,
        "select max(period_start) from marts.fct_incident_counts where freq = 'daily' "
        "and is_complete_period",
    )[0]
    assert heads.ref == last_complete < overview.last_data_day  # the reporting lag
    day, week, month = heads.items
    ly = last_complete - LAST_YEAR
    assert day.value == _daily_sum(healthy_db, "city", "Buffalo", last_complete, last_complete)
    week_start = last_complete - timedelta(days=6)
    assert week.value == _daily_sum(healthy_db, "city", "Buffalo", week_start, last_complete)
    assert week.last_year == _daily_sum(healthy_db, "city", "Buffalo", ly - timedelta(days=6), ly)
    assert month.value is not None and month.last_year is not None
    (days, partial) = _q(
        healthy_db,
        "select count(*), sum(incidents) from marts.fct_incident_counts where freq = 'daily' "
        "and geo_level = 'city' and period_start > ?",
        [last_complete],
    )[0]
    assert (heads.partial_days, heads.partial_incidents) == (days, partial) and days > 0

    flags = _q(
        healthy_db,
        "select period_start, is_complete_period from marts.fct_incident_counts "
        "where freq = 'weekly' and geo_level = 'city' and period_start >= ? order by 1",
        [view.actuals["period_start"].min()],
    )
    assert _rows(view.actuals, "period_start", "is_complete_period") == flags
    spec = charts.forecast_chart(view.actuals, view.forecasts, "t").to_dict()
    drawn = [row for rows in spec["datasets"].values() for row in rows if "status" in row]
    partial_drawn = sum(row["status"] == "partial so far" for row in drawn)
    assert partial_drawn == sum(not complete for _, complete in flags) >= 1


def test_forecasts_and_accuracy_of_the_published_champion(
    healthy_db: Path, overview: Overview
) -> None:
    view = load_area(DuckDBReader(healthy_db), "weekly", "police_district", "District B", None)
    assert view.notes == []
    expected = _q(
        healthy_db,
        "select period_start, yhat from marts.fct_forecasts where freq = 'weekly' "
        "and geo_level = 'police_district' and geo = 'District B' order by 1",
    )
    assert _rows(view.forecasts, "period_start", "yhat") == expected
    assert view.forecasts["horizon"].tolist() == list(range(1, len(expected) + 1))
    assert (view.forecasts["yhat_lower_95"] <= view.forecasts["yhat_lower_80"]).all()
    run = view.forecasts["forecast_run_id"].iloc[0]
    (methods,) = _q(
        healthy_db,
        "select count(*) from ml.model_performance where forecast_run_id = ? "
        "and freq = 'weekly' and geo_level = 'police_district'",
        [run],
    )[0]
    assert len(view.accuracy) == methods > 0 and view.accuracy["is_selected"].iloc[0]
    # No forecast period is complete yet after one run: an empty table, read without error.
    assert view.live.empty


def test_the_dashboard_names_no_level_and_guesses_no_column() -> None:
    """Issue 13: no fixed list of levels, labels or candidate column names in dashboard/."""
    source = "\n".join(p.read_text() for p in DASHBOARD.glob("*.py"))
    for word in ("police_district", "council_district", "neighborhood", "Buffalo", "_COLUMNS"):
        assert word not in source, word


def test_area_values_are_bound_not_spliced(healthy_db: Path) -> None:
    view = load_area(DuckDBReader(healthy_db), "daily", "neighborhood", "O'Hara'; drop", None)
    assert view.notes == [] and view.actuals.empty and view.types.types.empty
    with pytest.raises(ValueError, match="unknown freq"):
        load_area(DuckDBReader(healthy_db), "hourly", "city", "Buffalo", None)
