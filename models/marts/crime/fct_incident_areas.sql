{#
    Where each published incident happened, one row per incident and
    geography level of the source profile (the city included): the
    profile-driven replacement of fct_incidents' former fixed geography
    columns. Join it to fct_incidents on incident_id and to dim_geography on
    geography_id.
#}
{{ config(
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
        occurred_date

    from areas

)

select * from final
