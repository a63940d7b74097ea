{#
    Where each published incident happened, one row per incident and
    geography level of the source profile (the city included): the
    profile-driven replacement of fct_incidents' former fixed geography
    columns. Join it to fct_incidents on incident_id and to dim_geography on
    geography_id.
#}
{#-
    Incremental like fct_incidents, with the same window: a record's areas
    change only with the record, whose revision moves source_updated_at and
    lands in a new load.
    A full rebuild pseudonymised every incident again each day.
-#}
{#- DuckDB: delete the window's keys, insert the rows (exact: the keys are
    unique in the new rows); its MERGE cost ~1.7x as much at 1M (issue 16).
    The delete matches incident_id alone, one column of the whole history
    instead of two (d39): exact, because the window holds every level of
    each incident it holds (the window's columns are the incident's). #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert' if target.type == 'duckdb' else 'merge',
    unique_key=(
        'incident_id' if target.type == 'duckdb' else ['incident_id', 'geo_level']
    ),
    on_schema_change='append_new_columns',
    partition_by=(
        {'field': 'occurred_date', 'data_type': 'date', 'granularity': 'month'}
        if target.type == 'bigquery' else none
    ),
    cluster_by=(
        ['geo_level', 'geo']
        if target.type == 'bigquery' else none
    ),
) }}

{#- Rows without :updated_at cannot be windowed; they are re-merged. The
    window is incremental_where's, read branch by branch on DuckDB
    (incremental_rows). #}
{%- set window = incremental_window('source_updated_at', 'dlt_load_id') %}

with

areas as (

    {{ incremental_rows(ref('int_incident_areas'), window) }}

),

incident_ids as (

    {#-
        The pseudonym once per incident, not once per geography level (the
        keyed hash was most of a full build's time here). The same window
        on the same columns of the same records as `areas`, so the inner
        join keeps every area row: record_key is unique and never null.
    #}
    select
        record_key,
        {{ pseudonymise('record_key') }} as incident_id
    from (
        {{ incremental_rows(ref('int_incidents_classified'), window) }}
    ) as windowed

),

final as (

    select
        ---------- ids
        cast(incident_ids.incident_id as {{ dbt.type_string() }})
            as incident_id,
        {{ dbt.hash(dbt.concat(['areas.geo_level', "'|'", 'areas.geo'])) }}
            as geography_id,

        ---------- strings
        areas.geo_level,
        areas.geo,

        ---------- dates
        areas.occurred_date,

        ---------- timestamps
        areas.source_updated_at,

        ---------- lineage
        areas.dlt_load_id

    from areas
    inner join incident_ids
        on areas.record_key = incident_ids.record_key

)

select * from final
