{#
    The incremental window of fct_incidents and fct_incident_areas, read so
    that DuckDB can skip what lies outside it (a40, issue 16).
    incremental_where's predicate (`column >= start or column is null or
    load_column > after`) is an `or` across two columns, which DuckDB 1.5
    does not push into the scan of int_incidents_deduplicated under the
    views: every column of every stored incident was read and filtered
    afterwards. Its three disjoint branches each push into the scan (the
    same rows: a row with a null column is only in the second, one at or
    after start only in the first, the rest of the new loads in the
    third), as recent_rows_read does for the tests.
#}

{#-
    {'where': incremental_where's predicate with keep_nulls and
    load_column, 'branches': its disjoint branches, or none when the node
    builds every row (then 'where' is `true`)}. The two max() queries run
    once, whatever the number of relations read with the window.
-#}
{% macro incremental_window(column='source_updated_at', load_column='dlt_load_id') -%}
    {%- set start = incremental_lookback_start(column) -%}
    {%- set after = loaded_after(load_column) if start is not none else none -%}
    {%- if start is none or after is none -%}
        {{ return({'where': 'true', 'branches': none}) }}
    {%- endif -%}
    {{ return({
        'where': '(' ~ column ~ ' >= ' ~ start ~ ' or ' ~ column ~ ' is null or '
            ~ load_column ~ ' > ' ~ after ~ ')',
        'branches': [
            column ~ ' >= ' ~ start,
            column ~ ' is null',
            load_column ~ ' > ' ~ after ~ ' and ' ~ column ~ ' < ' ~ start,
        ],
    }) }}
{%- endmacro %}


{#- The rows of `relation` inside `window` (incremental_window), as a select. -#}
{% macro incremental_rows(relation, window) -%}
    {{ return(adapter.dispatch('incremental_rows')(relation, window)) }}
{%- endmacro %}

{#- BigQuery prunes partitions on the inlined literal of the `or`; a union
    would bill the columns once per branch. -#}
{% macro default__incremental_rows(relation, window) -%}
    select * from {{ relation }} where {{ window['where'] }}
{%- endmacro %}

{% macro duckdb__incremental_rows(relation, window) -%}
    {%- if not window['branches'] -%}
        select * from {{ relation }} where {{ window['where'] }}
    {%- else -%}
        {%- for branch in window['branches'] %}
        select * from {{ relation }} where {{ branch }}
        {%- if not loop.last %}
        union all
        {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
