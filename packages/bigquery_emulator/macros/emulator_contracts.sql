{#
    Contract-enforced tables on a local BigQuery emulator.

    dbt-bigquery builds a model with an enforced contract as one statement,
    `create or replace table t (columns) partition by .. as (select ..)`. Real
    BigQuery runs it; bqemulator translates it to DuckDB, which has no column
    list in CREATE TABLE .. AS. Here the table is created with its typed
    columns, partitioning and clustering first and then filled by INSERT ..
    SELECT in the same script: the same contract, the same table. Tables
    without an enforced contract use dbt-bigquery's own macro.
#}
{% macro bigquery__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if language == 'sql' and contract_config.enforced -%}
        {{ blotter_emulator_create_then_insert(temporary, relation, compiled_code) }}
    {%- else -%}
        {{ dbt.bigquery__create_table_as(temporary, relation, compiled_code, language) }}
    {%- endif -%}
{%- endmacro %}


{% macro blotter_emulator_create_then_insert(temporary, relation, compiled_code) -%}
    {%- set partition_config = adapter.parse_partition_by(config.get('partition_by', none)) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {%- set names = [] -%}
    {%- for column in model['columns'].values() -%}
        {%- do names.append(adapter.quote(column['name'])) -%}
    {%- endfor -%}
    {{ sql_header if sql_header is not none }}
    {{ get_assert_columns_equivalent(compiled_code) }}
    create or replace table {{ relation }}
        {{ get_table_columns_and_constraints() }}
    {{ partition_by(partition_config) }}
    {{ cluster_by(config.get('cluster_by', none)) }}
    {{ bigquery_table_options(config, model, temporary) }};

    insert into {{ relation }} ({{ names | join(', ') }})
    {{ get_select_subquery(compiled_code) }};
{%- endmacro %}
