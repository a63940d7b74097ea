with

source as (

    select * from {{ source('socrata', 'source_incident_types') }}

),

final as (

    select
        upper(trim(incident_type)) as incident_type,
        trim(parent_incident_type) as parent_incident_type
    from source

)

select * from final
