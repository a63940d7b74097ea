{#-
    recent_rows_predicate's window of `relation` as disjoint predicates,
    each of which DuckDB pushes into the table scan: `column >= start`,
    `column is null`, and `load_column >= oldest and column < start`. Read
    as a UNION ALL of one select per branch, the window costs the rows it
    keeps; as one `or`, DuckDB reads every row of the table to filter it
    (0.44 s for fct_incident_areas' 4M rows at 1M incidents, p38).
    none when the window is not a plain literal one (--full-refresh, parse
    time, an empty column, a load id that is not dlt's): use
    recent_rows_predicate then.
-#}
{% macro recent_rows_branches(
    relation, column='source_updated_at', load_column='dlt_load_id'
) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'recent_rows_branches ' ~ relation ~ ' ' ~ column ~ ' '
        ~ load_column -%}
    {%- if key not in cache -%}
        {%- do cache.update({key: recent_rows_branch_list(
            relation, column, load_column)}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#- recent_rows_branches' list, read from the warehouse (the same start and
    oldest load as recent_rows_window). -#}
{% macro recent_rows_branch_list(relation, column, load_column) -%}
    {%- set latest = column_max(relation, column) -%}
    {%- if latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = var('incidents_lookback_days', 3) | int -%}
    {%- set start = latest - modules.datetime.timedelta(days=days) -%}
    {%- set after = "cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S')
        ~ "' as " ~ dbt.type_timestamp() ~ ')' -%}
    {%- set branches = [column ~ ' >= ' ~ after, column ~ ' is null'] -%}
    {%- if relation_has_column(relation, load_column) -%}
        {%- set oldest -%}
            select min({{ load_column }}) from {{ relation }}
            where {{ column }} >= {{ after }}
        {%- endset -%}
        {%- set oldest = run_query(oldest).columns[0].values()[0] -%}
        {%- if oldest is none -%}
        {%- elif modules.re.fullmatch('[0-9]{10}([.][0-9]+)?', oldest | string) -%}
            {%- do branches.append(load_column ~ " >= '" ~ oldest ~ "' and "
                ~ column ~ ' < ' ~ after) -%}
        {%- else -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(branches) }}
{%- endmacro %}
