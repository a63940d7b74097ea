{#
    Forecasts of the current champion run, one row per freq, geo_level, geo
    and future period. This is what planners read; challengers' forecasts stay
    in the ml source for comparison.
#}
with

champion as (

    select run_id
    from {{ source('ml', 'model_runs') }}
    where status = 'champion'

),

forecasts as (

    select * from {{ source('ml', 'forecasts') }}

)

select
    forecasts.forecast_run_id,
    forecasts.model_version,
    forecasts.freq,
    forecasts.geo_level,
    forecasts.geo,
    forecasts.period_start,
    cast(row_number() over (
        partition by forecasts.freq, forecasts.geo_level, forecasts.geo
        order by forecasts.period_start
    ) as bigint) as horizon,
    forecasts.yhat,
    forecasts.yhat_lower_80,
    forecasts.yhat_upper_80,
    forecasts.yhat_lower_95,
    forecasts.yhat_upper_95,
    forecasts.created_at
from forecasts
inner join champion on forecasts.forecast_run_id = champion.run_id
