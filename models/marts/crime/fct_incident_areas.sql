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
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['incident_id', 'geo_level'],
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

with

areas as (

    select * from {{ ref('int_incident_areas') }}
    {#- Rows without :updated_at cannot be windowed; they are re-merged. #}
    where {{ incremental_where(
        'source_updated_at', keep_nulls=true, load_column='dlt_load_id'
    ) }}

),

final as (

    select
        ---------- ids
        cast({{ pseudonymise('record_key') }} as {{ dbt.type_string() }})
            as incident_id,
        {{ dbt.hash(dbt.concat(['geo_level', "'|'", 'geo'])) }}
            as geography_id,

        ---------- strings
        geo_level,
        geo,

        ---------- dates
        occurred_date,

        ---------- timestamps
        source_updated_at,

        ---------- lineage
        dlt_load_id

    from areas

)

select * from final
