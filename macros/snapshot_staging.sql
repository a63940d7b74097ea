{#-
    DuckDB's snapshot staging query (dbt dispatches snapshot_staging_table
    here before its default): dbt's, with `snapshotted_data` (the current
    versions the snapshot query is compared with) read only for the keys
    the snapshot query returns, instead of every current version of the
    snapshot (s39, issue 16: materialised, that was the node's largest
    1M-row cost). Exact when hard deletes are ignored: then a version is
    added or closed only for a key of the snapshot query (dbt's insertions
    and updates join from it), so the other current versions were read for
    nothing. With other hard_deletes (a key missing from the query closes
    its version) or a composite key, dbt's query as it is. The subquery
    reads `snapshot_query`, the CTE of the query dbt's staging selects
    from; were dbt to rename it, the staging would fail to compile, not
    compare against fewer versions. On other engines dbt's default: a
    narrower read bills BigQuery the same columns, plus the query's again.
-#}
{% macro duckdb__snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {%- set key = strategy.unique_key -%}
    {%- if strategy.hard_deletes not in (none, 'ignore') or key is not string -%}
        {{ return(dbt.default__snapshot_staging_table(
            strategy, source_sql, target_relation)) }}
    {%- endif -%}
    {%- set keyed -%}
        (select * from {{ target_relation }}
        where {{ key }} in (select {{ key }} from snapshot_query))
    {%- endset -%}
    {{ return(dbt.default__snapshot_staging_table(strategy, source_sql, keyed)) }}
{%- endmacro %}
