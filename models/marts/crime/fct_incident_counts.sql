{#
    Zero-filled incident counts per geography level of the source profile
    (int_incident_areas): every active area (one with at least one incident
    at its level) has a row for every period from the first incident
    to the data cutoff (dim_date). Incidents without a date cannot be placed
    in a period and are not counted. The forecasting module reads this table
    and trains on complete periods only; its columns are a contract.
#}
{{ config(
    partition_by=(
        {'field': 'period_start', 'data_type': 'date', 'granularity': 'month'}
        if target.type == 'bigquery' else none
    ),
    cluster_by=(
        ['freq', 'geo_level', 'geo']
        if target.type == 'bigquery' else none
    ),
) }}
with

areas as (

    select * from {{ ref('int_incident_areas') }}
    where occurred_date is not null

),

daily_counts as (

    select
        occurred_date,
        geo_level,
        geo,
        count(*) as incidents
    from areas
    group by occurred_date, geo_level, geo

),

calendar as (

    select * from {{ ref('dim_date') }}

),

data_window as (

    select * from {{ ref('int_data_window') }}

),

calendar_periods as (

    {#- Each day of the calendar once per frequency, with its period. #}
    {%- for freq in frequencies() %}
    {%- set start_column = period_start_column(freq) %}
    select
        {{ sql_string(freq) }} as freq,
        date_day,
        {{ start_column }} as period_start,
        {{ period_end(freq, start_column) }} as period_end
    from calendar
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

periods as (

    select distinct
        freq,
        period_start,
        period_end
    from calendar_periods

),

active_areas as (

    select distinct
        geo_level,
        geo
    from daily_counts

),

aggregated as (

    select
        calendar_periods.freq,
        calendar_periods.period_start,
        daily_counts.geo_level,
        daily_counts.geo,
        sum(daily_counts.incidents) as incidents
    from daily_counts
    inner join calendar_periods
        on daily_counts.occurred_date = calendar_periods.date_day
    group by
        calendar_periods.freq,
        calendar_periods.period_start,
        daily_counts.geo_level,
        daily_counts.geo

),

zero_filled as (

    select
        periods.freq,
        periods.period_start,
        periods.period_end,
        active_areas.geo_level,
        active_areas.geo,
        coalesce(aggregated.incidents, 0) as incidents
    from periods
    cross join active_areas
    left join aggregated
        on
            periods.freq = aggregated.freq
            and periods.period_start = aggregated.period_start
            and active_areas.geo_level = aggregated.geo_level
            and active_areas.geo = aggregated.geo

),

final as (

    select
        ---------- dates
        cast(zero_filled.period_start as date) as period_start,

        ---------- strings
        cast(zero_filled.freq as {{ dbt.type_string() }}) as freq,
        cast(zero_filled.geo_level as {{ dbt.type_string() }}) as geo_level,
        cast(zero_filled.geo as {{ dbt.type_string() }}) as geo,

        ---------- numerics
        cast(zero_filled.incidents as {{ dbt.type_bigint() }}) as incidents,

        ---------- booleans
        {# Wholly inside the loaded days and outside the reporting lag. #}
        (
            cast(zero_filled.period_start as date)
            >= data_window.first_loaded_date
            and cast(zero_filled.period_end as date)
            <= data_window.complete_until_date
        ) as is_complete_period

    from zero_filled
    cross join data_window

)

select * from final
