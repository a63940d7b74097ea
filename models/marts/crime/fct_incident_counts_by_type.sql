{#
    Weekly incidents by area and parent incident type, with small-cell
    protection (issue 8): a cell of 1..k-1 incidents is suppressed (null
    count, is_suppressed). When a single cell of an area-week is suppressed,
    the smallest other cell of that area-week is suppressed too, so that the
    area's weekly total in fct_incident_counts cannot reveal it. Zero cells
    (zero-filled over active types and areas) are published: they are about
    no one.
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

with

incidents as (

    select * from {{ ref('fct_incidents') }}
    where occurred_date is not null

),

calendar as (

    select * from {{ ref('dim_date') }}

),

weekly_by_area as (

    select
        calendar.week_start_date as period_start,
        incidents.police_district,
        incidents.council_district,
        incidents.neighborhood,
        incidents.parent_incident_type,
        incidents.incident_category,
        count(*) as incidents
    from incidents
    inner join calendar on incidents.occurred_date = calendar.date_day
    group by
        calendar.week_start_date,
        incidents.police_district,
        incidents.council_district,
        incidents.neighborhood,
        incidents.parent_incident_type,
        incidents.incident_category

),

unpivoted as (

    select
        period_start,
        'police_district' as geo_level,
        police_district as geo,
        parent_incident_type,
        incident_category,
        incidents
    from weekly_by_area
    union all
    select
        period_start,
        'council_district' as geo_level,
        council_district as geo,
        parent_incident_type,
        incident_category,
        incidents
    from weekly_by_area
    union all
    select
        period_start,
        'neighborhood' as geo_level,
        neighborhood as geo,
        parent_incident_type,
        incident_category,
        incidents
    from weekly_by_area

),

counted as (

    select
        period_start,
        geo_level,
        geo,
        parent_incident_type,
        sum(incidents) as incidents
    from unpivoted
    group by period_start, geo_level, geo, parent_incident_type

),

data_window as (

    select * from {{ ref('int_data_window') }}

),

weeks as (

    select distinct week_start_date as period_start from calendar

),

active_areas as (

    select distinct
        geo_level,
        geo
    from unpivoted

),

active_types as (

    select distinct
        parent_incident_type,
        incident_category
    from unpivoted

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
        incidents > 0 and incidents < {{ k }} as is_small_cell
    from zero_filled

),

ranked as (

    select
        *,
        sum(case when is_small_cell then 1 else 0 end) over (
            partition by period_start, geo_level, geo
        ) as small_cells_in_area_week,
        row_number() over (
            partition by period_start, geo_level, geo, is_small_cell
            order by incidents, parent_incident_type
        ) as rank_among_unsuppressed
    from primary_suppression

),

suppressed as (

    select
        *,
        is_small_cell
        or (
            small_cells_in_area_week = 1
            and not is_small_cell
            and rank_among_unsuppressed = 1
        ) as is_suppressed
    from ranked

),

final as (

    select
        ---------- dates
        cast(suppressed.period_start as date) as period_start,

        ---------- strings
        cast(suppressed.geo_level as {{ dbt.type_string() }}) as geo_level,
        cast(suppressed.geo as {{ dbt.type_string() }}) as geo,
        cast(suppressed.parent_incident_type as {{ dbt.type_string() }})
            as parent_incident_type,
        cast(suppressed.incident_category as {{ dbt.type_string() }})
            as incident_category,

        ---------- numerics
        cast(
            case when not suppressed.is_suppressed then suppressed.incidents end
            as {{ dbt.type_bigint() }}
        ) as incidents,

        ---------- booleans
        suppressed.is_suppressed,
        {# Same rule as fct_incident_counts (int_data_window). #}
        (
            cast(suppressed.period_start as date)
            >= data_window.first_loaded_date
            and cast(
                {{ dbt.dateadd('day', 6, 'suppressed.period_start') }} as date
            ) <= data_window.complete_until_date
        ) as is_complete_period

    from suppressed
    cross join data_window

)

select * from final
