{#
    The daily city series has one row per calendar day from the first to the
    last day of data (dim_date), with no gap even on days without incidents.
#}
with

city_daily as (

    select period_start
    from {{ ref('fct_incident_counts') }}
    where freq = 'daily' and geo_level = {{ sql_string(city_level()) }}

),

calendar as (

    select date_day from {{ ref('dim_date') }}

),

missing_days as (

    select calendar.date_day
    from calendar
    left join city_daily on calendar.date_day = city_daily.period_start
    where city_daily.period_start is null

)

select * from missing_days
