{#
    Latest incidents with their type mapped through the seeds (primary type ->
    parent type -> category, sensitivity) and every geography level filled:
    a missing area becomes the 'UNKNOWN' bucket so incidents are never dropped
    from counts.
#}
with

incidents as (

    select * from {{ ref('int_incidents_deduplicated') }}

),

incident_type_map as (

    select * from {{ ref('stg_seeds__incident_type_map') }}

),

parent_incident_types as (

    select * from {{ ref('stg_seeds__parent_incident_types') }}

),

typed as (

    select
        incidents.*,
        {# The seed wins; an unmapped primary type keeps the source's parent. #}
        coalesce(
            incident_type_map.parent_incident_type,
            incidents.parent_incident_type,
            'UNKNOWN'
        ) as mapped_parent_incident_type
    from incidents
    left join incident_type_map
        on upper(incidents.incident_type) = incident_type_map.incident_type

),

classified as (

    select
        typed.*,
        coalesce(
            parent_incident_types.incident_category, 'Unclassified'
        ) as incident_category,
        {# A parent type the seed does not know is sensitive until reviewed. #}
        coalesce(parent_incident_types.is_sensitive, true) as is_sensitive
    from typed
    left join parent_incident_types
        on
            typed.mapped_parent_incident_type
            = parent_incident_types.parent_incident_type

),

final as (

    select
        ---------- ids
        case_number,
        dlt_load_id,

        ---------- strings
        upper(coalesce(incident_type, 'UNKNOWN')) as incident_type,
        mapped_parent_incident_type as parent_incident_type,
        incident_category,
        description,
        address,
        coalesce(police_district, 'UNKNOWN') as police_district,
        coalesce(council_district, 'UNKNOWN') as council_district,
        coalesce(neighborhood, 'UNKNOWN') as neighborhood,

        ---------- numerics
        latitude,
        longitude,

        ---------- booleans
        is_sensitive,
        has_valid_coordinates,

        ---------- dates
        occurred_date,

        ---------- timestamps
        occurred_at_local,
        occurred_at,
        reported_at_local,
        reported_at,
        source_created_at,
        source_updated_at

    from classified

)

select * from final
