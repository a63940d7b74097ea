{#- Monday of the date's ISO week, as a date (dbt.date_trunc on DuckDB). -#}
{% macro week_start(date_expression) -%}
    {{ return(adapter.dispatch('week_start', 'blotter')(date_expression)) }}
{%- endmacro %}

{% macro default__week_start(date_expression) -%}
    cast({{ dbt.date_trunc('week', date_expression) }} as date)
{%- endmacro %}

{% macro bigquery__week_start(date_expression) -%}
    {#-
        dbt.date_trunc('week') starts weeks on Sunday on BigQuery. Day
        arithmetic from a known Monday (1970-01-05) rather than
        date_trunc(.., isoweek), which the BigQuery emulator cannot run.
    -#}
    {%- set day = 'cast(' ~ date_expression ~ ' as date)' %}
    date_sub(
        {{ day }},
        interval mod(mod(date_diff({{ day }}, date '1970-01-05', day), 7) + 7, 7) day
    )
{%- endmacro %}


{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}


{#- ISO day of week (Monday 1 .. Sunday 7), the same on every engine. -#}
{% macro iso_day_of_week(date_expression) -%}
    mod({{ dbt.datediff("cast('1970-01-05' as date)", date_expression, 'day') }}, 7) + 1
{%- endmacro %}
