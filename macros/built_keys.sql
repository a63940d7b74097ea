{#-
    The rows a node wrote in this invocation, as it computed them before
    writing (s39, issue 16): a snapshot's daily build adds versions only
    inside its window, whose start it reads from the snapshot before the
    merge. A data test compiles after the merge, when the table's own max
    may have moved the window past versions this build added, so the
    snapshot keeps its window here (invocation_cache) for the tests that
    use __built_keys__ (get_where_subquery).
-#}
{% macro built_window_keep(relation, branches) -%}
    {%- do invocation_cache().update({'built ' ~ relation: branches}) -%}
{%- endmacro %}


{#-
    A test's `where` with __built_keys__ resolved: the rows of `relation`
    whose key has a row inside the window its node kept this invocation
    (built_window_keep), i.e. every version of a key that got one (a
    duplicate pairs one of today's versions with a row of the same key).
    Returns {'where': ..., 'with': a CTE prefix for the subquery, or ''}.
    Every row (`true`) when the node kept none (`dbt test` alone, a first
    build), on --full-refresh and at parse time.
-#}
{% macro built_keys_where(relation, where, key_column='record_key') -%}
    {%- set keys = none -%}
    {%- if '__built_keys__' in where and execute and not flags.FULL_REFRESH -%}
        {%- set keys = built_keys_select(
            relation, invocation_cache().get('built ' ~ relation), key_column) -%}
    {%- endif -%}
    {%- if keys is none -%}
        {{ return({'where': where | replace('__built_keys__', 'true'), 'with': ''}) }}
    {%- endif -%}
    {#- Materialised: DuckDB then builds its hash table on the day's keys; a
        plain `in (...)` made it hash every current version of the table. -#}
    {{ return({
        'where': where | replace('__built_keys__', key_column
            ~ ' in (select ' ~ key_column ~ ' from built_keys)'),
        'with': 'with built_keys as materialized (' ~ keys ~ ') ',
    }) }}
{%- endmacro %}


{#- The keys of the rows in `branches` (none: every row is tested). -#}
{% macro built_keys_select(relation, branches, key_column) -%}
    {{ return(adapter.dispatch('built_keys_select')(relation, branches, key_column)) }}
{%- endmacro %}

{#- BigQuery bills every column the filter reads on top of the test's, and
    the snapshot is not partitioned: the full test reads fewer bytes. -#}
{% macro default__built_keys_select(relation, branches, key_column) -%}
    {{ return(none) }}
{%- endmacro %}

{#- One select per branch (each pushed into the scan, as recent_rows_read). -#}
{% macro duckdb__built_keys_select(relation, branches, key_column) -%}
    {%- if not branches -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set selects = [] -%}
    {%- for branch in branches -%}
        {%- do selects.append('select ' ~ key_column ~ ' from ' ~ relation
            ~ ' where ' ~ branch) -%}
    {%- endfor -%}
    {{ return(selects | join(' union all ')) }}
{%- endmacro %}
