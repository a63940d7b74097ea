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
{#-
    Incremental by area-week (issue 16): a daily DuckDB build recounts the
    weeks its changed records touch (counts_record.sql), else compares
    every area-week with its previous rows (counts_by_type_incremental.sql
    says how, and when the pre-hook empties the table first).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['freq', 'period_start', 'geo_level', 'geo', 'parent_incident_type'],
    on_schema_change='fail',
    pre_hook=(
        "{{ counts_by_type_reset_sql(this, ref('int_incidents_classified'),"
        " ref('dim_geography'), ref('dim_date')) }}"
    ),
    post_hook=counts_record_hooks('fct_incident_counts_by_type', 'counts_by_type_basis()'),
    partition_by=(
        {'field': 'period_start', 'data_type': 'date', 'granularity': 'month'}
        if target.type == 'bigquery' else none
    ),
    cluster_by=(
        ['geo_level', 'geo', 'parent_incident_type']
        if target.type == 'bigquery' else none
    ),
) }}
-- depends_on: {{ ref('int_incidents_counted') }}
{#- On DuckDB not after fct_incident_counts (p40): the two marts write
    disjoint rows of int_incidents_counted (counted_by), which DuckDB's MVCC
    lets concurrent transactions do, so a daily build runs them side by side.
    BigQuery keeps the order: concurrent mutating DML on one unpartitioned
    table conflicts there (retried, then failed), for no gain in its cost. #}
{% if target.type != 'duckdb' -%}
-- depends_on: {{ ref('fct_incident_counts') }}
{% endif -%}
{%- set incremental = this is not none and is_incremental() %}
{#- The newest load counted, when only the changed records' weeks need a
    recount (counts_record_state); none: compare all history. #}
{%- set after = counts_record_state(
    'fct_incident_counts_by_type', counts_by_type_counted_sql(),
    counts_by_type_basis()
) %}
{%- set k = var('k_anonymity_threshold', 5) -%}
{%- set freq = 'weekly' -%}
{%- set week_start = period_start_column(freq) -%}
{%- set remainder = suppressed_remainder_label() %}
{#- The CTEs up to the recounted days, also read alone for their range. #}
{%- set recount_ctes = counts_by_type_recount_ctes(after, freq, week_start) %}
{%- set recounted = counts_recounted_rows(after, recount_ctes, (
    counts_by_type_reset_sql(
        this, ref('int_incidents_classified'), ref('dim_geography'),
        ref('dim_date')
    ) if after is not none else ''
)) %}
with
{{ recount_ctes }},

areas as (

    select * from {{ ref('int_incident_areas') }}
    where
        occurred_date is not null
        and geo_level != {{ sql_string(city_level()) }}
        and {{ recounted }}

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

active_areas as (

    {#- The areas of `areas` from dim_geography (~100 rows), not a rescan. #}
    select
        geo_level,
        geo
    from {{ ref('dim_geography') }}
    where
        first_occurred_date is not null
        and geo_level != {{ sql_string(city_level()) }}

),

active_types as (

    {#- The types of `areas` from one row per incident, not one per level. #}
    select distinct
        parent_incident_type,
        incident_category
    from {{ ref('int_incidents_classified') }}
    where occurred_date is not null

),

primary_suppression as (

    {#- Non-zero cells only: a zero cell is neither small nor a candidate. #}
    select
        *,
        incidents < {{ k }} as is_small_cell,
        incidents >= {{ k }} as is_complement_candidate
    from counted

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
        sum(case when is_suppressed then incidents else 0 end) as incidents
    from suppressed
    group by period_start, geo_level, geo

),
{%- if incremental and after is none %}

{{ counts_by_type_touched_area_weeks(remainder) }},
{%- endif %}

area_weeks as (

    {#- All area-weeks, or on an incremental build the changed ones, every
        area of a touched week and every week of a new area. #}
    select
        weeks.period_start,
        weeks.is_complete_period,
        active_areas.geo_level,
        active_areas.geo
    from weeks
    cross join active_areas
    {%- if incremental %}
    left join touched_weeks
        on weeks.period_start = touched_weeks.period_start
    left join previous_areas
        on
            active_areas.geo_level = previous_areas.geo_level
            and active_areas.geo = previous_areas.geo
    {%- endif %}
    {%- if after is not none %}
    {#- Every area of a recounted week; every week of a new area. #}
    where
        touched_weeks.period_start is not null
        or previous_areas.geo is null
    {%- elif incremental %}
    left join changed_area_weeks
        on
            weeks.period_start = changed_area_weeks.period_start
            and active_areas.geo_level = changed_area_weeks.geo_level
            and active_areas.geo = changed_area_weeks.geo
    where
        touched_weeks.period_start is not null
        or previous_areas.geo is null
        or changed_area_weeks.geo is not null
    {%- endif %}

),

cells as (

    select
        area_weeks.period_start,
        area_weeks.is_complete_period,
        area_weeks.geo_level,
        area_weeks.geo,
        active_types.parent_incident_type,
        active_types.incident_category,
        case
            when not coalesce(suppressed.is_suppressed, false)
                then coalesce(suppressed.incidents, 0)
        end as incidents,
        coalesce(suppressed.is_suppressed, false) as is_suppressed
    from area_weeks
    cross join active_types
    left join suppressed
        on
            area_weeks.period_start = suppressed.period_start
            and area_weeks.geo_level = suppressed.geo_level
            and area_weeks.geo = suppressed.geo
            and active_types.parent_incident_type
            = suppressed.parent_incident_type
    union all
    select
        area_weeks.period_start,
        area_weeks.is_complete_period,
        area_weeks.geo_level,
        area_weeks.geo,
        '{{ remainder }}' as parent_incident_type,
        cast(null as {{ dbt.type_string() }}) as incident_category,
        coalesce(remainders.incidents, 0) as incidents,
        false as is_suppressed
    from area_weeks
    left join remainders
        on
            area_weeks.period_start = remainders.period_start
            and area_weeks.geo_level = remainders.geo_level
            and area_weeks.geo = remainders.geo

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
        cells.is_complete_period

    from cells

)

select * from final
