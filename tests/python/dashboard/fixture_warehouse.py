"""A small warehouse with the published marts' shapes, for the dashboard tests.

Built with DuckDB SQL from a deterministic synthetic incident table, so every mart is
consistent with the others (counts are zero-filled aggregates of ``fct_incidents``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

DISTRICTS = ["District A", "District B", "District C", "District D", "District E"]
COUNCIL = ["DELAWARE", "ELLICOTT", "FILLMORE", "LOVEJOY", "MASTEN", "NIAGARA", "NORTH"]
NEIGHBORHOODS = ["Allentown", "Black Rock", "Central", "Elmwood Bidwell", "Kensington-Bailey"]
TYPES = ["Theft", "Assault", "Breaking & Entering", "Theft of Vehicle", "Robbery", "Sexual Assault"]

_INCIDENTS = """
create table marts.fct_incidents as
with days as (
    select cast(d as date) as day from range($start, $end + interval 1 day, interval 1 day) t(d)
), slots as (
    select day, k, hash(day, k) as h from days cross join range(0, $slots) s(k)
), kept as (
    -- more incidents in summer and on Fridays; ~35 a day
    select * from slots where (h % 1000) < 560 + 160 * sin(2 * pi() * dayofyear(day) / 365.25)
        + 60 * cast(dayofweek(day) = 5 as integer)
)
select
    md5(cast(day as varchar) || '-' || k) as incident_id,
    day as occurred_date,
    cast(day as timestamp) + to_minutes(cast(h % 1440 as bigint)) as occurred_at_local,
    list_extract($types, cast((h // 7) % len($types) + 1 as integer)) as parent_incident_type,
    case when (h // 11) % 20 = 0 then null
        else list_extract($districts, cast((h // 13) % 5 + 1 as integer)) end as police_district,
    list_extract($council, cast((h // 17) % 7 + 1 as integer)) as council_district,
    list_extract($hoods, cast((h // 19) % 5 + 1 as integer)) as neighborhood,
    round(42.86 + ((h // 23) % 90) / 1000.0, 3) as grid_latitude,
    round(-78.89 + ((h // 29) % 80) / 1000.0, 3) as grid_longitude,
    false as is_sensitive,
    true as has_grid_location
from kept
"""

_COUNTS = """
create table marts.fct_incident_counts as
with levels as (
    select 'city' as geo_level, 'Buffalo' as geo, occurred_date from marts.fct_incidents
    union all select 'police_district', coalesce(police_district, 'UNKNOWN'), occurred_date
        from marts.fct_incidents
    union all select 'council_district', council_district, occurred_date from marts.fct_incidents
    union all select 'neighborhood', neighborhood, occurred_date from marts.fct_incidents
), freqs as (
    select 'daily' as freq, geo_level, geo, occurred_date as period_start from levels
    union all select 'weekly', geo_level, geo, cast(date_trunc('week', occurred_date) as date)
        from levels
    union all select 'monthly', geo_level, geo, cast(date_trunc('month', occurred_date) as date)
        from levels
), grid as (
    select f.freq, g.geo_level, g.geo, f.period_start
    from (select distinct freq, period_start from freqs) f
    cross join (select distinct geo_level, geo from freqs) g
), counted as (
    select freq, geo_level, geo, period_start, count(*) as incidents from freqs group by all
)
select grid.period_start, grid.freq, grid.geo_level, grid.geo,
    cast(coalesce(counted.incidents, 0) as bigint) as incidents,
    case grid.freq when 'daily' then true
        when 'weekly' then grid.period_start + 6 <= $end
        else last_day(grid.period_start) <= $end end as is_complete_period
from grid left join counted using (freq, geo_level, geo, period_start)
"""

_FORECASTS = """
insert into marts.fct_forecasts
with last_complete as (
    select freq, max(period_start) as origin from marts.fct_incident_counts
    where is_complete_period group by freq
), level as (
    select c.freq, c.geo_level, c.geo, avg(c.incidents) as level
    from marts.fct_incident_counts c join last_complete l using (freq)
    where c.period_start > l.origin - case c.freq when 'daily' then 28 when 'weekly' then 56
        else 180 end
    group by all
), steps as (
    select freq, h from (values ('daily', 28), ('weekly', 12), ('monthly', 6)) v(freq, n),
        range(1, n + 1) r(h)
)
select level.freq, level.geo_level, level.geo,
    cast(case level.freq when 'daily' then l.origin + cast(steps.h - $lag as integer)
        when 'weekly' then l.origin + 7 * cast(steps.h - $lag as integer)
        else l.origin + to_months(cast(steps.h - $lag as integer)) end as date) as period_start,
    level.level * $scale as yhat,
    greatest(level.level * $scale * 0.8, 0) as yhat_lower_80,
    level.level * $scale * 1.2 as yhat_upper_80,
    greatest(level.level * $scale * 0.65, 0) as yhat_lower_95,
    level.level * $scale * 1.35 as yhat_upper_95,
    $version as model_version, $run_id as forecast_run_id
from level join steps using (freq) join last_complete l using (freq)
"""

_LEDGER = """
create schema ops;
create table ops.run_ledger (
    run_id varchar primary key, as_of date not null, target varchar not null,
    status varchar not null, steps json, started_at timestamp with time zone not null,
    ended_at timestamp with time zone, rows_fetched bigint, rows_loaded bigint,
    rows_rejected bigint, tests_passed integer, tests_failed integer, failing_tests json,
    error varchar
)
"""


def build(
    path: Path,
    end: date | None = None,
    days: int = 800,
    last_run: str | None = "succeeded",
    with_ml: bool = True,
    slots: int = 60,
) -> Path:
    """Write the fixture warehouse to ``path`` (replaced if present) and return the path.

    Args:
        path: DuckDB file to create.
        end: last day of data (default yesterday, UTC).
        days: days of history (more than a year, so "vs last year" has data).
        last_run: status of the newest ledger row (``None``: no ledger table at all).
        with_ml: publish forecasts, accuracy and the model registry.
        slots: candidate incidents per day (about 58% are kept: 60 gives ~35 a day).
    """
    end = end or datetime.now(UTC).date() - timedelta(days=1)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            _INCIDENTS,
            {
                "start": end - timedelta(days=days - 1),
                "end": end,
                "types": TYPES,
                "districts": DISTRICTS,
                "council": COUNCIL,
                "hoods": NEIGHBORHOODS,
                "slots": slots,
            },
        )
        # Generalised locations only: sensitive offences carry no coordinates.
        con.execute(
            "update marts.fct_incidents set grid_latitude = null, grid_longitude = null, "
            "is_sensitive = true, has_grid_location = false "
            "where parent_incident_type = 'Sexual Assault'"
        )
        con.execute(_COUNTS, {"end": end})
        if with_ml:
            _ml(con)
        if last_run is not None:
            _ledger(con, end, last_run)
    return path


def _ml(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table marts.fct_forecasts (freq varchar, geo_level varchar, geo varchar, "
        "period_start date, yhat double, yhat_lower_80 double, yhat_upper_80 double, "
        "yhat_lower_95 double, yhat_upper_95 double, model_version varchar, "
        "forecast_run_id varchar)"
    )
    # An older run (origin 3 periods earlier) and the latest one: the app must pick the latest.
    con.execute(_FORECASTS, {"lag": 3, "scale": 0.5, "version": "hgb-v1", "run_id": "run-old"})
    con.execute(_FORECASTS, {"lag": 0, "scale": 1.0, "version": "hgb-v2", "run_id": "run-new"})
    # The older run's first periods are complete by now: scored against actuals.
    con.execute(
        "create table marts.fct_forecast_accuracy as select f.forecast_run_id, f.model_version, "
        "'retired' as run_status, f.freq, f.geo_level, f.geo, f.period_start, f.yhat, "
        "f.yhat_lower_80, f.yhat_upper_80, f.yhat_lower_95, f.yhat_upper_95, "
        "c.incidents as actual, c.incidents - f.yhat as error, abs(c.incidents - f.yhat) "
        "as abs_error, c.incidents between f.yhat_lower_80 and f.yhat_upper_80 as in_interval_80, "
        "c.incidents between f.yhat_lower_95 and f.yhat_upper_95 as in_interval_95 "
        "from marts.fct_forecasts f join marts.fct_incident_counts c "
        "using (freq, geo_level, geo, period_start) where c.is_complete_period"
    )
    con.execute("create schema ml")
    con.execute(
        "create table ml.model_performance as select 'run-new' as forecast_run_id, "
        "'hgb-v2' as model_version, freq, geo_level, method, method = 'hgb' as is_selected, "
        "n, mae, mae * 1.3 as rmse, mase, mae / mase as mae_seasonal_naive, coverage_80, "
        "coverage_95, 4 as backtest_origins, timestamp '2026-01-02 06:00:00' as created_at "
        "from (values "
        "('daily', 'city', 'hgb', 5.1, 0.71, 0.81, 0.94, 364),"
        "('daily', 'city', 'seasonal_naive', 7.2, 1.0, 0.70, 0.90, 364),"
        "('weekly', 'city', 'hgb', 21.0, 0.64, 0.79, 0.96, 52),"
        "('weekly', 'city', 'seasonal_naive', 32.8, 1.0, 0.74, 0.92, 52),"
        "('weekly', 'police_district', 'hgb', 6.2, 0.82, 0.80, 0.95, 260),"
        "('weekly', 'council_district', 'hgb', 4.9, 0.85, 0.78, 0.93, 364)"
        ") v(freq, geo_level, method, mae, mase, coverage_80, coverage_95, n)"
    )
    con.execute(
        "create table ml.model_runs as select *, '{}' as params, '{}' as metrics from (values "
        "('run-new', 'hgb-v2', 'champion', timestamp '2026-01-02 06:00:00', "
        "date '2026-01-01', 0.71),"
        "('run-old', 'hgb-v1', 'retired', timestamp '2025-12-01 06:00:00', "
        "date '2025-11-30', 0.80)"
        ") v(run_id, model_version, status, trained_at, data_cutoff, score)"
    )


def _ledger(con: duckdb.DuckDBPyConnection, end: date, last_run: str) -> None:
    con.execute(_LEDGER)
    today = end + timedelta(days=1)
    rows = [
        ("run-1", end - timedelta(days=1), "succeeded", None, 2),
        (
            "run-2",
            end,
            last_run,
            "dbt build: 2 error-severity test(s) failed" if last_run == "failed" else None,
            1,
        ),
    ]
    for run_id, as_of, status, error, days_ago in rows:
        started = datetime.combine(
            today - timedelta(days=days_ago - 1), datetime.min.time(), UTC
        ) + timedelta(hours=6)
        con.execute(
            "insert into ops.run_ledger (run_id, as_of, target, status, started_at, ended_at, "
            "error) values ($id, $as_of, 'dev', $status, $started, $ended, $error)",
            {
                "id": run_id,
                "as_of": as_of,
                "status": status,
                "started": started,
                "ended": None if status == "running" else started + timedelta(minutes=4),
                "error": error,
            },
        )


if __name__ == "__main__":  # build one by hand: python tests/python/dashboard/fixture_warehouse.py
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "data/dashboard-fixture.duckdb")))
