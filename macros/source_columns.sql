{#
    The raw table evolves with the source: dlt adds new TEXT columns (zip_code,
    incident_id) and older snapshots of the dataset call the neighbourhood
    column neighborhood_1. Staging asks the warehouse which columns exist once
    per compile and picks the first candidate present, else a typed null.
#}
{#-
    Column names of a source table in the warehouse. Looked up from the
    source node rather than source() so that unit tests, where source() is a
    fixture CTE, see the same columns as real builds.
-#}
{% macro source_column_names(source_name, table_name) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- set nodes = (graph.get('sources') or {}).values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | list -%}
        {%- if nodes -%}
            {%- set relation = adapter.get_relation(
                database=nodes[0].database,
                schema=nodes[0].schema,
                identifier=nodes[0].identifier
            ) -%}
        {%- else -%}
            {#- Unit tests get a reduced graph: same schema rule as the source. -#}
            {%- set relation = adapter.get_relation(
                database=target.database,
                schema=dataset_prefix() ~ 'raw',
                identifier=table_name
            ) -%}
        {%- endif -%}
        {%- if relation is not none -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- do names.append(column.name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}


{% macro first_existing_column(available, candidates) -%}
    {%- for candidate in candidates -%}
        {%- if candidate in available -%}
            {{ return(adapter.quote(candidate)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('cast(null as ' ~ dbt.type_string() ~ ')') }}
{%- endmacro %}


{#- Trimmed text with blanks and the portal's 'UNKNOWN' sentinel as null. -#}
{% macro clean_text(expression) -%}
    case
        when upper(trim({{ expression }})) in ('', 'UNKNOWN', 'NULL', 'N/A')
            then null
        else trim({{ expression }})
    end
{%- endmacro %}


{#- clean_text of the first existing candidate column (a name or a list). -#}
{% macro raw_text(available, candidates) -%}
    {%- set names = [candidates] if candidates is string else candidates -%}
    {{ return(clean_text(first_existing_column(available, names))) }}
{%- endmacro %}
