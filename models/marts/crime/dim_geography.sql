{#
    Every area of every geography level of the source profile: the official
    areas (raw.source_geographies), the areas seen in the data, each level's
    'UNKNOWN' bucket when used, and the city itself (level 0). Levels, labels
    and order come from the profile, so a new city needs no dbt change.
#}
{%- set profile = source_profile() -%}

with

official_areas as (

    select * from {{ ref('stg_socrata__geographies') }}

),

areas as (

    select * from {{ ref('int_incident_areas') }}

),

levels as (

    {%- for level in geo_levels() %}
    select
        {{ sql_string(level['level']) }} as geo_level,
        {{ sql_string(level['label']) }} as geo_level_label,
        {{ level['order'] }} as level_order
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

observed_summary as (

    select
        geo_level,
        geo,
        count(*) as incidents,
        min(occurred_date) as first_occurred_date,
        max(occurred_date) as last_occurred_date
    from areas
    group by geo_level, geo

),

official as (

    select
        geo_level,
        geo
    from official_areas
    union all
    select
        {{ sql_string(city_level()) }} as geo_level,
        {{ sql_string(profile['city_name']) }} as geo

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
        levels.geo_level_label,
        all_areas.geo,

        ---------- numerics
        cast(levels.level_order as {{ dbt.type_bigint() }}) as level_order,
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
    left join levels on all_areas.geo_level = levels.geo_level
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
