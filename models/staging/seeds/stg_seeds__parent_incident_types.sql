with

source as (

    select * from {{ ref('parent_incident_types') }}

),

final as (

    select
        trim(parent_incident_type) as parent_incident_type,
        trim(incident_category) as incident_category,
        is_sensitive
    from source

)

select * from final
