{#
    Latest incidents with their type mapped through the profile's type maps
    (primary type -> parent type -> category, sensitivity) and every
    geography level of the profile filled: a missing area becomes the
    'UNKNOWN' bucket so incidents are never dropped from counts.
#}
with

incidents as (

    select * from {{ ref('int_incidents_deduplicated') }}

),

incident_types as (

    select * from {{ ref('stg_socrata__incident_types') }}

),

parent_incident_types as (

    select * from {{ ref('stg_socrata__parent_incident_types') }}

),

typed as (

    select
        incidents.*,
        {# The profile wins; an unmapped type keeps the source's parent. #}
        coalesce(
            incident_types.parent_incident_type,
            incidents.parent_incident_type,
            'UNKNOWN'
        ) as mapped_parent_incident_type
    from incidents
    left join incident_types
        on upper(incidents.incident_type) = incident_types.incident_type

),

classified as (

    select
        typed.*,
        coalesce(
            parent_incident_types.incident_category, 'Unclassified'
        ) as incident_category,
        {# A parent type the profile lacks is sensitive until reviewed. #}
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
        record_key,
        case_number,
        dlt_load_id,

        ---------- strings
        upper(coalesce(incident_type, 'UNKNOWN')) as incident_type,
        mapped_parent_incident_type as parent_incident_type,
        incident_category,
        description,
        address,
        {%- for geography in geo_levels(include_city=false) %}
        coalesce({{ geo_column(geography['level']) }}, 'UNKNOWN')
            as {{ geo_column(geography['level']) }},
        {%- endfor %}

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
