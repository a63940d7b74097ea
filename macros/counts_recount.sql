{#
    The counts marts' recounted rows on a daily DuckDB build (issue 16):
    the touched days' range read first, so the recount reads those days'
    incidents instead of every incident's areas.
#}

{#-
    The rows a build recounts: all, or the days of the touched periods
    (recount_days). DuckDB does not push `in (select ...)` through
    int_incident_areas' union of levels, so every level of every incident
    was unpivoted and then dropped (most of a daily build of the counts
    marts at 1M). `ctes` (SQL: the model's CTEs ending in recount_days) lets
    this read the touched days' range first and add it as literals, which
    DuckDB pushes into the incidents scan; the `in` keeps the rows exact.
    `reset` is the model's pre-hook SQL: when it empties the table, every
    period is touched once it ran, so the range is not read beforehand.
-#}
{% macro counts_recounted_rows(after, ctes=none, reset='') -%}
    {%- if after is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set rows = 'occurred_date in (select date_day from recount_days)' -%}
    {%- if ctes is none or reset or not execute -%}
        {{ return(rows) }}
    {%- endif -%}
    {%- set query -%}
        with {{ ctes }}
        select min(date_day), max(date_day) from recount_days
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if row[0] is none -%}
        {#- No touched day: nothing to recount. -#}
        {{ return('false') }}
    {%- endif -%}
    {#- Dates the query returned, formatted here: no source text reaches SQL. -#}
    {{ return(
        rows ~ " and occurred_date between cast('" ~ row[0].strftime('%Y-%m-%d')
        ~ "' as date) and cast('" ~ row[1].strftime('%Y-%m-%d') ~ "' as date)"
    ) }}
{%- endmacro %}


{#-
    The model's first CTEs (calendar, data_window, weeks and, with `after`,
    those up to recount_days), as SQL: counts_recounted_rows reads them
    alone for the range of the recounted days.
-#}
{% macro counts_by_type_recount_ctes(after, freq, week_start) -%}
calendar as (

    select * from {{ ref('dim_date') }}

),

data_window as (

    select * from {{ ref('int_data_window') }}

),

weeks as (

    {{ counts_by_type_weeks(freq, week_start) }}

)
{%- if after is not none %},

{{ counts_by_type_touched_weeks_from_changed_days(after, week_start) }}
{%- endif %}
{%- endmacro %}


{#-
    fct_incident_counts' first CTEs (calendar, data_window, calendar_periods,
    periods and, with `after`, those up to recount_days), as SQL:
    counts_recounted_rows reads them alone for the range of the recounted
    days.
-#}
{% macro counts_recount_ctes(after) -%}
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

    select
        calendar_periods.freq,
        calendar_periods.period_start,
        calendar_periods.period_end,
        {# Wholly inside the loaded days and outside the reporting lag. #}
        (
            cast(calendar_periods.period_start as date)
            >= data_window.first_loaded_date
            and cast(calendar_periods.period_end as date)
            <= data_window.complete_until_date
        ) as is_complete_period
    from (
        select distinct
            freq,
            period_start,
            period_end
        from calendar_periods
    ) as calendar_periods
    cross join data_window

)
{%- if after is not none %},

{{ counts_changed_days('fct_incident_counts', after) }},

{{ counts_touched_periods(from_changed_days=true) }},

recount_days as (

    {#- Every day of a touched period: its sums are recounted whole. #}
    select distinct calendar_periods.date_day
    from calendar_periods
    inner join touched_periods
        on
            calendar_periods.freq = touched_periods.freq
            and calendar_periods.period_start = touched_periods.period_start

)
{%- endif %}
{%- endmacro %}
