with

source as (

    select * from {{ ref('geographies') }}

),

final as (

    select
        trim(geo_level) as geo_level,
        trim(geo) as geo
    from source

)

select * from final
