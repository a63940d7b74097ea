{#
    THE list of count frequencies (issue 15): every model, test and YAML
    accepted_values that needs them calls frequencies(). Each maps to the
    dim_date column holding its period start; period_end() says where a
    period ends. A frequency outside this list stops the compile.
#}
{% macro frequencies() -%}
    {{ return(['daily', 'weekly', 'monthly']) }}
{%- endmacro %}


{#- The dim_date column holding the start of the date's period. -#}
{% macro period_start_column(freq) -%}
    {%- set columns = {
        'daily': 'date_day',
        'weekly': 'week_start_date',
        'monthly': 'month_start_date',
    } -%}
    {%- if freq not in frequencies() or freq not in columns -%}
        {{ exceptions.raise_compiler_error(
            'unknown frequency ' ~ freq ~ ': use one of '
            ~ frequencies() | join(', ') ~ ' (macros/frequencies.sql)') }}
    {%- endif -%}
    {{ return(columns[freq]) }}
{%- endmacro %}


{#- SQL of the last day of the period that starts at period_start. -#}
{% macro period_end(freq, period_start) -%}
    {%- do period_start_column(freq) -%}
    {%- if freq == 'daily' -%}
        {{ return(period_start) }}
    {%- elif freq == 'weekly' -%}
        {{ return(dbt.dateadd('day', 6, period_start)) }}
    {%- else -%}
        {{ return(dbt.dateadd('day', -1, dbt.dateadd('month', 1, period_start))) }}
    {%- endif -%}
{%- endmacro %}


{#- The start of the `freq` period holding the date `date_expression`, as dim_date computes it. -#}
{% macro period_start_of(freq, date_expression) -%}
    {%- set starts = {
        'daily': 'cast(' ~ date_expression ~ ' as date)',
        'weekly': week_start(date_expression),
        'monthly': month_start(date_expression),
    } -%}
    {%- if freq not in starts -%}
        {{ exceptions.raise_compiler_error('no period start for frequency ' ~ freq) }}
    {%- endif -%}
    {{ return(starts[freq]) }}
{%- endmacro %}
