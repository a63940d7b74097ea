{#
    The daily city series has one row per day from the first to the last day
    of data, with no gap even on days without any incident.
#}
with

city_daily as (

    select period_start
    from {{ ref('fct_incident_counts') }}
    where freq = 'daily' and geo_level = 'city'

),

span as (

    select
        count(*) as days_present,
        {{ dbt.datediff('min(period_start)', 'max(period_start)', 'day') }} + 1
            as days_expected
    from city_daily

)

select *
from span
where days_present != days_expected
