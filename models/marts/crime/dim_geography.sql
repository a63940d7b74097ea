{#
    Every area of every level: the official list (seed), the areas seen in
    the data, the 'UNKNOWN' bucket of each level and the city itself.
#}
with

geographies as (

    select * from {{ ref('stg_seeds__geographies') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

observed as (

    select
        'city' as geo_level,
        '{{ var("city_name") }}' as geo,
        occurred_date
    from incidents
    union all
    select
        'police_district' as geo_level,
        police_district as geo,
        occurred_date
    from incidents
    union all
    select
        'council_district' as geo_level,
        council_district as geo,
        occurred_date
    from incidents
    union all
    select
        'neighborhood' as geo_level,
        neighborhood as geo,
        occurred_date
    from incidents

),

observed_summary as (

    select
        geo_level,
        geo,
        count(*) as incidents,
        min(occurred_date) as first_occurred_date,
        max(occurred_date) as last_occurred_date
    from observed
    group by geo_level, geo

),

official as (

    select
        geo_level,
        geo
    from geographies
    union all
    select
        'city' as geo_level,
        '{{ var("city_name") }}' as geo

),

all_areas as (

    select
        geo_level,
        geo
    from official
    union distinct
    select
        geo_level,
        geo
    from observed_summary

),

final as (

    select
        ---------- ids
        {{ dbt.hash(
            dbt.concat(['all_areas.geo_level', "'|'", 'all_areas.geo'])
        ) }} as geography_id,

        ---------- strings
        all_areas.geo_level,
        all_areas.geo,

        ---------- numerics
        cast(coalesce(observed_summary.incidents, 0) as {{ dbt.type_bigint() }})
            as incidents,

        ---------- booleans
        official.geo is not null as is_official,
        all_areas.geo = 'UNKNOWN' as is_unknown_bucket,
        observed_summary.geo is not null as has_incidents,

        ---------- dates
        observed_summary.first_occurred_date,
        observed_summary.last_occurred_date

    from all_areas
    left join official
        on
            all_areas.geo_level = official.geo_level
            and all_areas.geo = official.geo
    left join observed_summary
        on
            all_areas.geo_level = observed_summary.geo_level
            and all_areas.geo = observed_summary.geo

)

select * from final
