{#
    Forecasts of every run joined to the actual counts as they arrive: one row
    per run, freq, geo_level, geo and forecast period whose period is complete
    in fct_incident_counts. Periods still in the future (or partial) have no
    row yet.
#}
with

forecasts as (

    select
        *,
        row_number() over (
            partition by forecast_run_id, freq, geo_level, geo
            order by period_start
        ) as horizon
    from {{ source('ml', 'forecasts') }}

),

runs as (

    select
        run_id,
        status
    from {{ source('ml', 'model_runs') }}

),

actuals as (

    select
        freq,
        geo_level,
        geo,
        period_start,
        incidents
    from {{ ref('fct_incident_counts') }}
    where is_complete_period

)

select
    forecasts.forecast_run_id,
    forecasts.model_version,
    runs.status as run_status,
    forecasts.freq,
    forecasts.geo_level,
    forecasts.geo,
    forecasts.period_start,
    cast(forecasts.horizon as bigint) as horizon,
    forecasts.yhat,
    forecasts.yhat_lower_80,
    forecasts.yhat_upper_80,
    forecasts.yhat_lower_95,
    forecasts.yhat_upper_95,
    actuals.incidents as actual,
    actuals.incidents - forecasts.yhat as error,
    abs(actuals.incidents - forecasts.yhat) as abs_error,
    (
        actuals.incidents >= forecasts.yhat_lower_80
        and actuals.incidents <= forecasts.yhat_upper_80
    ) as in_interval_80,
    (
        actuals.incidents >= forecasts.yhat_lower_95
        and actuals.incidents <= forecasts.yhat_upper_95
    ) as in_interval_95,
    forecasts.created_at
from forecasts
inner join actuals
    on
        forecasts.freq = actuals.freq
        and forecasts.geo_level = actuals.geo_level
        and forecasts.geo = actuals.geo
        and forecasts.period_start = actuals.period_start
left join runs on forecasts.forecast_run_id = runs.run_id
