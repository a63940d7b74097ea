with

source as (

    select * from {{ source('socrata', 'source_geographies') }}

),

final as (

    select
        ---------- strings
        trim(geo_level) as geo_level,
        trim(geo_level_label) as geo_level_label,
        trim(geo) as geo,

        ---------- numerics
        cast(level_order as {{ dbt.type_bigint() }}) as level_order

    from source

)

select * from final
