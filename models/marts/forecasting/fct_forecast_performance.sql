{#
    Backtest metrics of every forecast run, one row per run, freq, geo_level
    ('all' = every level pooled) and method, with the run's current registry
    status: what the dashboard shows next to a forecast, and how analysts
    compare runs without reading the ml schema.
#}
with

performance as (

    select * from {{ source('ml', 'model_performance') }}

),

runs as (

    select
        run_id,
        status
    from {{ source('ml', 'model_runs') }}

)

select
    performance.forecast_run_id,
    performance.model_version,
    runs.status as run_status,
    performance.freq,
    performance.geo_level,
    performance.method,
    performance.is_selected,
    performance.n,
    performance.mae,
    performance.rmse,
    performance.mase,
    performance.mae_seasonal_naive,
    performance.coverage_80,
    performance.coverage_95,
    performance.backtest_origins,
    performance.created_at
from performance
left join runs on performance.forecast_run_id = runs.run_id
