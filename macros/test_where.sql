{#
    dbt's `where` test config (dbt renders it while parsing, when the
    warehouse cannot be asked), plus one placeholder resolved when the test
    runs: __recent_rows__ becomes the rows a daily build can have changed in
    the tested relation (recent_rows_predicate). Only for tests whose full
    property the model guarantees by construction; the YAML says why next
    to each use.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if '__recent_rows__' in where -%}
        {%- set where = where | replace(
            '__recent_rows__', recent_rows_predicate(relation)
        ) -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}


{#-
    source_updated_at within var('incidents_lookback_days') of the newest
    in `relation`, or null (such rows are re-merged on every run): the
    incremental window, anchored after this run's merge. With load lineage,
    also every row of a load at least as new as the oldest load inside that
    window: rows a late load brought in with an old :updated_at
    (incremental_where's load_column). `true` on a --full-refresh and at
    parse time.
-#}
{% macro recent_rows_predicate(
    relation, column='source_updated_at', load_column='dlt_load_id'
) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set latest = column_max(relation, column) -%}
    {%- if latest is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set days = var('incidents_lookback_days', 3) | int -%}
    {%- set start = latest - modules.datetime.timedelta(days=days) -%}
    {%- set after = "cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S')
        ~ "' as " ~ dbt.type_timestamp() ~ ')' -%}
    {%- set predicate = column ~ ' >= ' ~ after ~ ' or ' ~ column ~ ' is null' -%}
    {%- if relation_has_column(relation, load_column) -%}
        {%- set predicate = predicate ~ ' or ' ~ load_column ~ ' >= (select min('
            ~ load_column ~ ') from ' ~ relation ~ ' where ' ~ column ~ ' >= '
            ~ after ~ ')' -%}
    {%- endif -%}
    {{ return('(' ~ predicate ~ ')') }}
{%- endmacro %}
