{#
    Issue 12.11: fct_forecast_accuracy never scores a forecast against a
    partial period (a partly observed week, a day inside the reporting lag).
    Returns one row per scored period that is not complete.
#}
select
    accuracy.forecast_run_id,
    accuracy.freq,
    accuracy.geo_level,
    accuracy.geo,
    accuracy.period_start
from {{ ref('fct_forecast_accuracy') }} as accuracy
left join {{ ref('fct_incident_counts') }} as counts
    on
        accuracy.freq = counts.freq
        and accuracy.period_start = counts.period_start
        and accuracy.geo_level = counts.geo_level
        and accuracy.geo = counts.geo
where not coalesce(counts.is_complete_period, false)
