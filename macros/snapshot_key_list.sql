{#-
    The record keys of the CTE `relation`, as a select for `record_key in
    (...)` (snap_incidents, s42, issue 16). On DuckDB the keys are gathered
    into one list and unnested: the planner estimates one row, so the semi
    join builds on these few keys and probes the large side (the snapshot
    or the view), with the keys' min and max pushed into that scan. As a
    plain subquery its estimate is the sum of the window's union branches,
    and DuckDB then built the hash table on all 10M current versions of the
    snapshot instead (s39's plan flip: 3.2 s at 10M). An empty list unnests
    to no rows, so the join stops before it reads the other side. Other
    engines: the plain subquery.
-#}
{% macro snapshot_key_list(relation) -%}
    {{ return(adapter.dispatch('snapshot_key_list')(relation)) }}
{%- endmacro %}

{% macro default__snapshot_key_list(relation) -%}
    select {{ relation }}.record_key from {{ relation }}
{%- endmacro %}

{% macro duckdb__snapshot_key_list(relation) -%}
    select unnest(keyed.record_keys)
    from (select list({{ relation }}.record_key) as record_keys
        from {{ relation }}) as keyed
{%- endmacro %}
