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
