{#
    Date vars of a run (data_cutoff, data_start): an ISO date string, or none
    when the var is not given. A var given with --vars wins; else the
    environment variable BLOTTER_DBT_<NAME> (how `blotter` passes the day's
    data_cutoff: a changed --vars makes dbt parse the whole project again,
    a changed env var only the files that read it). Anything else stops the
    compile with one line, so no value reaches SQL unchecked.
#}
{% macro date_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = env_var('BLOTTER_DBT_' ~ name | upper, '') -%}
    {%- endif -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- if not is_iso_date(text) -%}
        {{ exceptions.raise_compiler_error(
            'var ' ~ name ~ ' must be an ISO date (YYYY-MM-DD), got '
            ~ text[:40] ~ ': pass e.g. --vars \'{"' ~ name
            ~ '": "2025-06-10"}\'') }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{#- True for a real calendar date written YYYY-MM-DD (no exceptions in Jinja). -#}
{% macro is_iso_date(text) -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set year = text[0:4] | int -%}
    {%- set month = text[5:7] | int -%}
    {%- set day = text[8:10] | int -%}
    {%- if year < 1 or month < 1 or month > 12 or day < 1 -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set next_month = modules.datetime.date(
        year + (month // 12), month % 12 + 1, 1
    ) -%}
    {%- set last_day = (next_month - modules.datetime.timedelta(days=1)).day -%}
    {{ return(day <= last_day) }}
{%- endmacro %}


{#- A checked date var as a SQL date literal, or `fallback` (SQL) when absent. -#}
{% macro date_var_or(name, fallback) -%}
    {%- set value = date_var(name) -%}
    {%- if value is none -%}
        {{ return(fallback) }}
    {%- endif -%}
    {{ return("cast('" ~ value ~ "' as date)") }}
{%- endmacro %}


{#- var reporting_lag_days as a non-negative integer (a clear error otherwise). -#}
{% macro reporting_lag_days() -%}
    {%- set value = var('reporting_lag_days') | string -%}
    {%- if not modules.re.match('^[0-9]{1,3}$', value) -%}
        {{ exceptions.raise_compiler_error(
            'var reporting_lag_days must be a whole number of days (0-999), got '
            ~ value[:40]) }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}
