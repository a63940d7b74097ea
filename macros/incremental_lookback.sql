{#
    Start of the incremental window: max(column) already in {{ this }} minus
    lookback_days, inlined as a literal so BigQuery can prune partitions
    (it does not prune on subqueries). Socrata revises old rows, hence the
    lookback. Returns none outside incremental runs. Snapshots pass
    for_snapshot=true: they are "incremental" once their table exists.
#}
{% macro incremental_lookback_start(
    column='source_updated_at', lookback_days=none, for_snapshot=false
) -%}
    {%- if not execute or this is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if for_snapshot -%}
        {%- if adapter.get_relation(
            database=this.database, schema=this.schema, identifier=this.identifier
        ) is none -%}
            {{ return(none) }}
        {%- endif -%}
    {%- elif not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = lookback_days if lookback_days is not none
        else var('incidents_lookback_days', 3) -%}
    {%- set query -%}
        select max({{ column }}) from {{ this }}
    {%- endset -%}
    {%- set latest = run_query(query).columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ return("cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endif -%}
    {%- set start = latest - modules.datetime.timedelta(days=days | int) -%}
    {{ return(
        "cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S') ~ "' as "
        ~ dbt.type_timestamp() ~ ")"
    ) }}
{%- endmacro %}
