{#
    Incidents unpivoted to the geography levels of the source profile: one
    row per incident and level, the city first (geo = the profile's
    city_name), then each level's area ('UNKNOWN' when the source has none).
    The counts marts, dim_geography and fct_incident_areas read this instead
    of fixed geography columns.
#}
{%- set profile = source_profile() -%}

with

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

unpivoted as (

    select
        record_key,
        'city' as geo_level,
        {{ sql_string(profile['city_name']) }} as geo,
        occurred_date,
        parent_incident_type,
        incident_category
    from incidents
    {%- for geography in profile.get('geographies') or [] %}
    union all
    select
        record_key,
        {{ sql_string(geography['level']) }} as geo_level,
        {{ geo_column(geography['level']) }} as geo,
        occurred_date,
        parent_incident_type,
        incident_category
    from incidents
    {%- endfor %}

),

final as (

    select
        ---------- ids
        record_key,

        ---------- strings
        cast(geo_level as {{ dbt.type_string() }}) as geo_level,
        cast(geo as {{ dbt.type_string() }}) as geo,
        parent_incident_type,
        incident_category,

        ---------- dates
        occurred_date

    from unpivoted

)

select * from final
