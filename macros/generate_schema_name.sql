{#
    Schemas are exactly staging / intermediate / marts / snapshots whatever the
    target, so that dev, CI and prod agree on names, behind var('schema_prefix'):
    dev_ for a plain `dbt build`, audit_ for write-audit-publish, '' for the
    published schemas (only `blotter run` publishes). On DuckDB `blotter`
    moves the audit_ relations of its parse to the colour it builds in
    (blue_/green_, orchestration/dbt_manifest.py), so the var never changes. On
    BigQuery every dataset also carries BLOTTER_BQ_DATASET_PREFIX so that several
    deployments can share one GCP project.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ dataset_prefix() }}{{ var('schema_prefix') }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}


{% macro dataset_prefix() -%}
    {%- if target.type == 'bigquery' -%}
        {{ env_var('BLOTTER_BQ_DATASET_PREFIX', '') }}
    {%- endif -%}
{%- endmacro %}
