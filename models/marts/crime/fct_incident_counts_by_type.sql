{#
    Weekly incidents by area (every geography level of the source profile
    below the city) and parent incident type, with small-cell
    protection (issue 8): a cell of 1..k-1 incidents is suppressed (null
    count, is_suppressed). When a single cell of an area-week is suppressed,
    the smallest other cell of k or more is suppressed too, so that the area's
    weekly total cannot reveal it (a suppressed zero would not hide anything).
    Zero cells (zero-filled over active types and areas) are published: they
    are about no one.

    What the suppressed cells hold is published as one 'other (suppressed)'
    row per area-week (issue 12.15), so the breakdown sums exactly to
    fct_incident_counts: an analyst who sums it no longer under-counts. That
    remainder was already derivable (area total minus published cells), so it
    reveals no single cell.
#}
{{ config(
    partition_by=(
        {'field': 'period_start', 'data_type': 'date', 'granularity': 'month'}
        if target.type == 'bigquery' else none
    ),
    cluster_by=(
        ['geo_level', 'geo', 'parent_incident_type']
        if target.type == 'bigquery' else none
    ),
) }}
{%- set k = var('k_anonymity_threshold', 5) -%}
{%- set freq = 'weekly' -%}
{%- set week_start = period_start_column(freq) -%}

with

areas as (

    select * from {{ ref('int_incident_areas') }}
    where
        occurred_date is not null
        and geo_level != {{ sql_string(city_level()) }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

counted as (

    select
        calendar.{{ week_start }} as period_start,
        areas.geo_level,
        areas.geo,
        areas.parent_incident_type,
        count(*) as incidents
    from areas
    inner join calendar on areas.occurred_date = calendar.date_day
    group by
        calendar.{{ week_start }},
        areas.geo_level,
        areas.geo,
        areas.parent_incident_type

),

data_window as (

    select * from {{ ref('int_data_window') }}

),

weeks as (

    select distinct {{ week_start }} as period_start from calendar

),

active_areas as (

    select distinct
        geo_level,
        geo
    from areas

),

active_types as (

    select distinct
        parent_incident_type,
        incident_category
    from areas

),

zero_filled as (

    select
        weeks.period_start,
        active_areas.geo_level,
        active_areas.geo,
        active_types.parent_incident_type,
        active_types.incident_category,
        coalesce(counted.incidents, 0) as incidents
    from weeks
    cross join active_areas
    cross join active_types
    left join counted
        on
            weeks.period_start = counted.period_start
            and active_areas.geo_level = counted.geo_level
            and active_areas.geo = counted.geo
            and active_types.parent_incident_type = counted.parent_incident_type

),

primary_suppression as (

    select
        *,
        incidents > 0 and incidents < {{ k }} as is_small_cell,
        incidents >= {{ k }} as is_complement_candidate
    from zero_filled

),

ranked as (

    select
        *,
        sum(case when is_small_cell then 1 else 0 end) over (
            partition by period_start, geo_level, geo
        ) as small_cells_in_area_week,
        row_number() over (
            partition by period_start, geo_level, geo, is_complement_candidate
            order by incidents, parent_incident_type
        ) as rank_among_candidates
    from primary_suppression

),

suppressed as (

    select
        period_start,
        geo_level,
        geo,
        parent_incident_type,
        incident_category,
        incidents,
        is_small_cell
        or (
            small_cells_in_area_week = 1
            and is_complement_candidate
            and rank_among_candidates = 1
        ) as is_suppressed
    from ranked

),

remainders as (

    select
        period_start,
        geo_level,
        geo,
        '{{ suppressed_remainder_label() }}' as parent_incident_type,
        cast(null as {{ dbt.type_string() }}) as incident_category,
        sum(case when is_suppressed then incidents else 0 end) as incidents,
        false as is_suppressed
    from suppressed
    group by period_start, geo_level, geo

),

cells as (

    select
        period_start,
        geo_level,
        geo,
        parent_incident_type,
        incident_category,
        case when not is_suppressed then incidents end as incidents,
        is_suppressed
    from suppressed
    union all
    select
        period_start,
        geo_level,
        geo,
        parent_incident_type,
        incident_category,
        incidents,
        is_suppressed
    from remainders

),

final as (

    select
        ---------- dates
        cast(cells.period_start as date) as period_start,

        ---------- strings
        cast({{ sql_string(freq) }} as {{ dbt.type_string() }}) as freq,
        cast(cells.geo_level as {{ dbt.type_string() }}) as geo_level,
        cast(cells.geo as {{ dbt.type_string() }}) as geo,
        cast(cells.parent_incident_type as {{ dbt.type_string() }})
            as parent_incident_type,
        cast(cells.incident_category as {{ dbt.type_string() }})
            as incident_category,

        ---------- numerics
        cast(cells.incidents as {{ dbt.type_bigint() }}) as incidents,

        ---------- booleans
        cells.is_suppressed,
        {# Same rule as fct_incident_counts (int_data_window). #}
        (
            cast(cells.period_start as date)
            >= data_window.first_loaded_date
            and cast(
                {{ period_end(freq, 'cells.period_start') }} as date
            ) <= data_window.complete_until_date
        ) as is_complete_period

    from cells
    cross join data_window

)

select * from final
