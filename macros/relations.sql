{#
    Small questions about relations in the warehouse, asked at compile time
    (all answer false or [] at parse time, when nothing can be looked up).
#}
{#- Lower-case column names of a relation except `excluded` ([] at parse time). -#}
{% macro columns_except(relation, excluded) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in excluded -%}
                {%- do names.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}


{#- True when the relation exists in the warehouse and has the column. -#}
{% macro relation_has_column(relation, column_name) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier
    ) -%}
    {%- if existing is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for column in adapter.get_columns_in_relation(existing) -%}
        {%- if column.name | lower == column_name | lower -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}


{#- True when the relation exists in the warehouse (false at parse time). -#}
{% macro relation_exists(relation) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier
    ) is not none) }}
{%- endmacro %}


{#- max(column) of the relation, read from the warehouse (none when empty). -#}
{% macro column_max(relation, column) -%}
    {%- set query -%}
        select max({{ column }}) from {{ relation }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}


{#-
    A dict that lives for one dbt invocation, for compile-time answers that
    cannot change during it (the source profile; a data test's window over a
    relation its model already built). On BigQuery each query is billed (at
    least 10 MB per table), and ~50 nodes asked the same few (issue 16).
    Kept in `graph` (one dict shared by every node of an invocation) under
    the invocation id, because blotter passes one parsed manifest to several
    invocations and each must start empty. {} at parse time.
-#}
{% macro invocation_cache() -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set caches = graph.setdefault('blotter_invocation_cache', {}) -%}
    {%- if invocation_id not in caches -%}
        {#- Another invocation's answers: dropped, never read. -#}
        {%- do caches.clear() -%}
        {%- do caches.update({invocation_id: {}}) -%}
    {%- endif -%}
    {{ return(caches[invocation_id]) }}
{%- endmacro %}
