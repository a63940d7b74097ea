{#
    The latest forecast run has the full horizon for every active geography:
    each (freq, geo_level, geo) of fct_incident_counts has exactly as many
    forecast periods as the run's horizon for that freq, and the run forecasts
    no geography the mart does not have. Returns one row per violation.
    Only freqs with at least one complete period are checked: the forecaster
    cannot train (and does not forecast) a freq without one, e.g. monthly on
    a three-week history. No forecast run at all passes (no champion yet).
#}
with

latest_run as (

    select forecast_run_id
    from {{ source('ml', 'forecasts') }}
    order by created_at desc, forecast_run_id desc
    limit 1

),

forecasts as (

    select forecasts.*
    from {{ source('ml', 'forecasts') }} as forecasts
    inner join latest_run
        on forecasts.forecast_run_id = latest_run.forecast_run_id

),

per_geo as (

    select
        freq,
        geo_level,
        geo,
        count(*) as n_periods,
        count(distinct period_start) as n_distinct
    from forecasts
    group by freq, geo_level, geo

),

horizons as (

    select
        freq,
        max(n_periods) as horizon
    from per_geo
    group by freq

),

trainable_freqs as (

    select distinct freq
    from {{ ref('fct_incident_counts') }}
    where is_complete_period

),

checked_per_geo as (

    select *
    from per_geo
    where freq in (select trainable_freqs.freq from trainable_freqs)

),

active as (

    select distinct
        freq,
        geo_level,
        geo
    from {{ ref('fct_incident_counts') }}
    where
        freq in (select horizons.freq from horizons)
        and freq in (select trainable_freqs.freq from trainable_freqs)

)

select
    coalesce(active.freq, per_geo.freq) as freq,
    coalesce(active.geo_level, per_geo.geo_level) as geo_level,
    coalesce(active.geo, per_geo.geo) as geo,
    per_geo.n_periods,
    horizons.horizon
from active
full outer join checked_per_geo as per_geo
    on
        active.freq = per_geo.freq
        and active.geo_level = per_geo.geo_level
        and active.geo = per_geo.geo
left join horizons on coalesce(active.freq, per_geo.freq) = horizons.freq
where
    per_geo.geo is null
    or active.geo is null
    or per_geo.n_periods != horizons.horizon
    or per_geo.n_distinct != per_geo.n_periods
