{#
    Incidents unpivoted to the geography levels of the source profile: one
    row per incident and level, the city first (geo = the profile's
    city_name), then each level's area ('UNKNOWN' when the source has none).
    The counts marts and fct_incident_areas read this instead of fixed
    geography columns (dim_geography applies the same rule to
    int_incidents_deduplicated in one pass); source_updated_at is
    fct_incident_areas' incremental window.
#}
with

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

unpivoted as (

    {%- for level in geo_levels() %}
    select
        record_key,
        {{ sql_string(level['level']) }} as geo_level,
        {{ level['geo_expression'] }} as geo,
        occurred_date,
        parent_incident_type,
        incident_category,
        source_updated_at,
        dlt_load_id
    from incidents
    {%- if not loop.last %}
    union all
    {%- endif %}
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
        occurred_date,

        ---------- timestamps
        source_updated_at,

        ---------- lineage
        dlt_load_id

    from unpivoted

)

select * from final
