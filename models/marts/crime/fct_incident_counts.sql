{#
    Zero-filled incident counts per geography level of the source profile
    (int_incident_areas): every active area (one with at least one incident
    at its level) has a row for every period from the first incident
    to the data cutoff (dim_date). Incidents without a date cannot be placed
    in a period and are not counted. The forecasting module reads this table
    and trains on complete periods only; its columns are a contract.
#}
{#-
    Incremental by period (issue 16): the previous build's daily rows are
    the exact per-day, per-area counts it published, so comparing them with
    today's daily counts finds every day whose count changed, whatever moved
    it (new, revised or re-dated incidents, a new geography mapping), with
    no need for an incident's old values. Only the periods holding such a
    day, periods that are new or whose is_complete_period flips (the data
    window moved), and every period of a new area are emitted and merged.
    Vanished areas or periods make the pre-hook empty the table first
    (counts_reset_sql), so the build ends as a full rebuild. It reads the
    active areas from dim_geography (an area with a dated incident has a
    first_occurred_date there): a table of ~100 rows, not another scan of
    every incident's areas.
    on_schema_change fail: a changed column must be rebuilt with
    --full-refresh, never left null in old rows.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['freq', 'period_start', 'geo_level', 'geo'],
    on_schema_change='fail',
    pre_hook=(
        "{{ counts_reset_sql(this, ref('dim_geography'), ref('dim_date'),"
        " frequencies(), 'first_occurred_date is not null') }}"
    ),
    post_hook=counts_record_hooks('fct_incident_counts'),
    partition_by=(
        {'field': 'period_start', 'data_type': 'date', 'granularity': 'month'}
        if target.type == 'bigquery' else none
    ),
    cluster_by=(
        ['freq', 'geo_level', 'geo']
        if target.type == 'bigquery' else none
    ),
) }}
-- depends_on: {{ ref('dim_geography') }}
-- depends_on: {{ ref('int_incidents_counted') }}
-- depends_on: {{ ref('int_incidents_classified') }}
{#- A unit test has no {{ this }}: it checks the full build. #}
{%- set incremental = this is not none and is_incremental() %}
{#- The newest load counted, when only the changed records' days need a
    recount (counts_record_state); none: compare all history (below). #}
{%- set after = counts_record_state(
    'fct_incident_counts', counts_counted_sql()
) %}
{%- if 'daily' not in frequencies() %}
    {{ exceptions.raise_compiler_error(
        'fct_incident_counts finds changed periods from its daily rows: '
        ~ 'keep daily in frequencies()') }}
{%- endif %}
{#- The CTEs up to the recounted days, also read alone for their range. #}
{%- set recount_ctes = counts_recount_ctes(after) %}
{%- set recounted = counts_recounted_rows(after, recount_ctes, (
    counts_reset_sql(
        this, ref('dim_geography'), ref('dim_date'), frequencies(),
        'first_occurred_date is not null'
    ) if after is not none else ''
)) %}
with
{{ recount_ctes }},

areas as (

    select * from {{ ref('int_incident_areas') }}
    where
        occurred_date is not null
        and {{ recounted }}

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
{%- if incremental and after is none %}

{{ counts_touched_periods() }},
{%- endif %}

active_areas as (

    {%- if after is not none %}
    {#- daily_counts holds the recounted days only; dim_geography (the
        counts_reset_sql rule) has every area with a dated incident. #}
    select
        geo_level,
        geo
    from {{ ref('dim_geography') }}
    where first_occurred_date is not null
    {%- else %}
    select distinct
        geo_level,
        geo
    from daily_counts
    {%- endif %}

),

grid as (

    {#-
        The rows this build emits: every period of every active area, or on
        an incremental build the periods the day touched, plus every period
        of a new area (it needs its whole zero-filled history).
    #}
    select
        periods.*,
        active_areas.geo_level,
        active_areas.geo
    from periods
    cross join active_areas
    {%- if incremental %}
    left join touched_periods
        on
            periods.freq = touched_periods.freq
            and periods.period_start = touched_periods.period_start
    left join previous_areas
        on
            active_areas.geo_level = previous_areas.geo_level
            and active_areas.geo = previous_areas.geo
    where touched_periods.freq is not null or previous_areas.geo is null
    {%- endif %}

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
        grid.freq,
        grid.period_start,
        grid.geo_level,
        grid.geo,
        grid.is_complete_period,
        coalesce(aggregated.incidents, 0) as incidents
    from grid
    left join aggregated
        on
            grid.freq = aggregated.freq
            and grid.period_start = aggregated.period_start
            and grid.geo_level = aggregated.geo_level
            and grid.geo = aggregated.geo

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
        zero_filled.is_complete_period

    from zero_filled

)

select * from final
