{{ config(severity='warn') }}
{#
    Areas seen in the data that are not in their level's official list (a
    new or misspelt area name in the source). Warn, then add the area to the
    profile's values. Levels without an official list are not checked.
#}
select
    areas.geo_level,
    areas.geo,
    areas.incidents
from {{ ref('dim_geography') }} as areas
where
    not areas.is_official
    and not areas.is_unknown_bucket
    and areas.geo_level in (
        select official_areas.geo_level
        from {{ ref('stg_socrata__geographies') }} as official_areas
    )
