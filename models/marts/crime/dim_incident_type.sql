{#- Every primary incident type: the profile's map and any seen in the data. -#}
with

incident_type_map as (

    select * from {{ ref('stg_socrata__incident_types') }}

),

parent_incident_types as (

    select * from {{ ref('stg_socrata__parent_incident_types') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

observed as (

    select
        incident_type,
        parent_incident_type,
        count(*) as incidents
    from incidents
    group by incident_type, parent_incident_type

),

{# A primary type seen under several parents keeps its most common one. #}
observed_primary as (

    select *
    from observed
    where incidents > 0
    qualify row_number() over (
        partition by incident_type
        order by incidents desc, parent_incident_type asc
    ) = 1

),

observed_totals as (

    select
        incident_type,
        sum(incidents) as incidents
    from observed
    group by incident_type

),

all_types as (

    select
        coalesce(
            incident_type_map.incident_type, observed_primary.incident_type
        ) as incident_type,
        coalesce(
            incident_type_map.parent_incident_type,
            observed_primary.parent_incident_type
        ) as parent_incident_type,
        incident_type_map.incident_type is not null as is_mapped
    from incident_type_map
    full outer join observed_primary
        on incident_type_map.incident_type = observed_primary.incident_type

),

final as (

    select
        ---------- ids
        {{ dbt.hash('all_types.incident_type') }} as incident_type_id,

        ---------- strings
        all_types.incident_type,
        all_types.parent_incident_type,
        coalesce(parent_incident_types.incident_category, 'Unclassified')
            as incident_category,

        ---------- numerics
        cast(coalesce(observed_totals.incidents, 0) as {{ dbt.type_bigint() }})
            as incidents,

        ---------- booleans
        all_types.is_mapped,
        coalesce(parent_incident_types.is_sensitive, true) as is_sensitive

    from all_types
    left join parent_incident_types
        on
            all_types.parent_incident_type
            = parent_incident_types.parent_incident_type
    left join observed_totals
        on all_types.incident_type = observed_totals.incident_type

)

select * from final
