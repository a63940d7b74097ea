{#- Each frequency but daily sums its days, per area. -#}
with

counts as (

    select * from {{ ref('fct_incident_counts') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

daily_rolled_up as (

    {%- for freq in frequencies() if freq != 'daily' %}
    {%- set start_column = 'calendar.' ~ period_start_column(freq) %}
    select
        {{ sql_string(freq) }} as freq,
        {{ start_column }} as period_start,
        counts.geo_level,
        counts.geo,
        sum(counts.incidents) as incidents
    from counts
    inner join calendar on counts.period_start = calendar.date_day
    where counts.freq = 'daily'
    group by {{ start_column }}, counts.geo_level, counts.geo
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select daily_rolled_up.*
from daily_rolled_up
left join counts
    on
        daily_rolled_up.freq = counts.freq
        and daily_rolled_up.period_start = counts.period_start
        and daily_rolled_up.geo_level = counts.geo_level
        and daily_rolled_up.geo = counts.geo
where counts.incidents is null or counts.incidents != daily_rolled_up.incidents
