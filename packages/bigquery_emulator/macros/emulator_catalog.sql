{#
    dbt docs catalog on a local BigQuery emulator.

    dbt-bigquery reads table statistics from the legacy `__TABLES__` meta
    table, which bqemulator does not have: the catalog is read from each
    dataset's INFORMATION_SCHEMA.TABLES and .COLUMNS instead (names, kinds
    and column types; no row counts or sizes).
#}
{% macro bigquery__get_catalog(information_schema, schemas) -%}
    {{ return(blotter_emulator_catalog(information_schema.database, schemas, none)) }}
{%- endmacro %}


{% macro bigquery__get_catalog_relations(information_schema, relations) -%}
    {%- set schemas = relations | map(attribute='schema') | unique | list -%}
    {%- set database = information_schema.database -%}
    {{ return(blotter_emulator_catalog(database, schemas, relations)) }}
{%- endmacro %}


{% macro blotter_emulator_catalog(database, schemas, relations) -%}
    {%- set existing = [] -%}
    {%- for schema in schemas -%}
        {%- if adapter.check_schema_exists(database, schema) -%}
            {%- do existing.append(schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if existing | length == 0 -%}
        {{ return(run_query("select 1 as id limit 0")) }}
    {%- endif -%}
    {%- set query -%}
        {%- for schema in existing %}
        select
            columns.table_catalog as table_database,
            columns.table_schema,
            columns.table_name,
            case
                when tables.table_type = 'VIEW' then 'view' else 'table'
            end as table_type,
            cast(null as string) as table_comment,
            columns.column_name,
            columns.ordinal_position as column_index,
            columns.data_type as column_type,
            cast(null as string) as column_comment
        from `{{ database }}`.`{{ schema }}`.INFORMATION_SCHEMA.COLUMNS as columns
        inner join `{{ database }}`.`{{ schema }}`.INFORMATION_SCHEMA.TABLES as tables
            on columns.table_name = tables.table_name
        {%- if relations is not none %}
        where columns.table_name in (
            {%- for relation in relations if relation.schema == schema -%}
                '{{ relation.identifier }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
        {%- endif %}
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {{ return(run_query(query)) }}
{%- endmacro %}
