{#
    The forecasting module writes <prefix>ml.forecasts, .model_performance and
    .model_runs. Before any forecast they do not exist, and every model and
    test that reads them would fail a plain `dbt build`. This on-run-start hook
    creates each missing one empty, with the column types declared on the
    source (`_forecasting__sources.yml`, equal to ml/warehouse.py TABLES). It
    never touches a table that exists.
#}
{% macro create_ml_sources() -%}
    {%- set statements = [] -%}
    {%- if execute -%}
        {%- set tables = graph.sources.values()
            | selectattr('source_name', 'equalto', 'ml') | list -%}
        {%- for node in tables -%}
            {%- set existing = adapter.get_relation(
                database=node.database,
                schema=node.schema,
                identifier=node.identifier
            ) -%}
            {%- if existing is none -%}
                {%- do statements.append(create_empty_source_table(node)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- The hook runs (and commits) the DDL; a hook must render to a statement. -#}
    {{ statements | join(';\n') if statements else 'select 1 as ml_sources_ready' }}
{%- endmacro %}


{#- DDL creating one source table empty from its declared column types. -#}
{% macro create_empty_source_table(node) -%}
    {%- set relation = api.Relation.create(
        database=node.database,
        schema=node.schema,
        identifier=node.identifier,
        type='table'
    ) -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                'source ' ~ node.source_name ~ '.' ~ node.name ~ ' column '
                ~ column.name ~ ' has no data_type: declare it in '
                ~ node.original_file_path) }}
        {%- endif -%}
        {%- do columns.append(
            adapter.quote(column.name) ~ ' '
            ~ portable_column_type(column.data_type)
        ) -%}
    {%- endfor -%}
    {%- do adapter.create_schema(relation) -%}
    {{ log('creating empty source table ' ~ relation, info=true) }}
    {{ return(
        'create table if not exists ' ~ relation
        ~ ' (' ~ columns | join(', ') ~ ')'
    ) }}
{%- endmacro %}


{#- A portable (DuckDB) type name as the engine spells it. -#}
{% macro portable_column_type(type_name) -%}
    {{ return(adapter.dispatch('portable_column_type', 'blotter')(type_name)) }}
{%- endmacro %}

{% macro default__portable_column_type(type_name) -%}
    {{ return(type_name) }}
{%- endmacro %}

{% macro bigquery__portable_column_type(type_name) -%}
    {#- DuckDB TIMESTAMP is naive UTC: BigQuery DATETIME, as ml/ writes it. -#}
    {%- set types = {
        'VARCHAR': 'STRING', 'DOUBLE': 'FLOAT64', 'BIGINT': 'INT64',
        'BOOLEAN': 'BOOL', 'DATE': 'DATE', 'TIMESTAMP': 'DATETIME',
    } -%}
    {%- set upper = type_name | upper -%}
    {%- if upper not in types -%}
        {{ exceptions.raise_compiler_error(
            'no BigQuery type for portable type ' ~ type_name) }}
    {%- endif -%}
    {{ return(types[upper]) }}
{%- endmacro %}
