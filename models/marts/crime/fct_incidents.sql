{#
    Published incident facts, privacy-safe by construction (issue 8):
    pseudonymised id, block-level address, coordinates snapped to a ~100 m
    grid, and for sensitive offence types no address and no coordinates.
    Geography lives in fct_incident_areas (one row per incident and level of
    the source profile), not in fixed columns here.
#}
{#- DuckDB: delete the window's keys, insert the rows (exact: the keys are
    unique in the new rows); its MERGE cost ~1.7x as much at 1M (issue 16). #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert' if target.type == 'duckdb' else 'merge',
    unique_key='incident_id',
    on_schema_change='append_new_columns',
    partition_by=(
        {'field': 'occurred_date', 'data_type': 'date', 'granularity': 'month'}
        if target.type == 'bigquery' else none
    ),
    cluster_by=(
        ['parent_incident_type', 'incident_type']
        if target.type == 'bigquery' else none
    ),
) }}

{#- Rows without :updated_at cannot be windowed; they are re-merged. The
    window is incremental_where's, read branch by branch on DuckDB
    (incremental_rows). #}
{%- set window = incremental_window('source_updated_at', 'dlt_load_id') %}

with

incidents as (

    {{ incremental_rows(ref('int_incidents_classified'), window) }}

),

generalised as (

    select
        {{ pseudonymise('record_key') }} as incident_id,
        incident_type,
        parent_incident_type,
        incident_category,
        is_sensitive,
        occurred_date,
        occurred_at_local,
        occurred_at,
        reported_at,
        source_updated_at,
        dlt_load_id,
        case
            when not is_sensitive then {{ generalise_address('address') }}
        end as address_block,
        case
            when not is_sensitive then {{ snap_coordinate('latitude') }}
        end as grid_latitude,
        case
            when not is_sensitive then {{ snap_coordinate('longitude') }}
        end as grid_longitude
    from incidents

),

final as (

    select
        ---------- ids
        cast(incident_id as {{ dbt.type_string() }}) as incident_id,

        ---------- strings
        incident_type,
        parent_incident_type,
        incident_category,
        address_block,

        ---------- numerics
        grid_latitude,
        grid_longitude,

        ---------- booleans
        is_sensitive,
        grid_latitude is not null as has_grid_location,

        ---------- dates
        occurred_date,

        ---------- timestamps
        occurred_at_local,
        occurred_at,
        reported_at,
        source_updated_at,

        ---------- lineage
        dlt_load_id

    from generalised

)

select * from final
