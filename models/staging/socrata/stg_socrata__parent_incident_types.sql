with

source as (

    select * from {{ source('socrata', 'source_parent_incident_types') }}

),

final as (

    select
        trim(parent_incident_type) as parent_incident_type,
        trim(incident_category) as incident_category,
        cast(is_sensitive as {{ dbt.type_boolean() }}) as is_sensitive
    from source

)

select * from final
