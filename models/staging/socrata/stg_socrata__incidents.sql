{#
    One row per raw.incidents row: Blotter's incident fields read through the
    source profile (raw.source_profile), typed and trimmed. Each field
    coalesces its profile columns row by row (drift aliases: the first
    non-null wins); a field whose columns are all absent is a typed null; a
    missing record key or incident time stops the compile naming the column.
    Floating local timestamps keep a *_local column and get a UTC *_at twin
    (profile timezone). Each geography level of the profile becomes a column
    geo_<level>.
#}
{%- set profile = source_profile() -%}
{%- set cols = source_column_names('socrata', 'incidents') -%}
{%- set sentinels = profile.get('coordinate_sentinels') or [] -%}
{%- set bbox = profile.get('bbox') -%}

with

source as (

    select * from {{ source('socrata', 'incidents') }}

),

typed as (

    select
        ---------- ids
        nullif(
            trim({{ profile_field(cols, profile, 'record_key') }}), ''
        ) as record_key,
        {{ profile_field(cols, profile, 'case_number') }} as case_number,
        {{ coalesced_text(cols, ['socrata_id']) }} as socrata_row_id,
        {{ coalesced_text(cols, ['_blotter_source']) }} as source_id,
        _dlt_load_id as dlt_load_id,

        ---------- strings
        {{ profile_field(cols, profile, 'incident_type') }} as incident_type,
        {{ profile_field(cols, profile, 'parent_incident_type') }}
            as parent_incident_type,
        {{ profile_field(cols, profile, 'description') }} as description,
        {{ profile_field(cols, profile, 'address') }} as address,
        {%- for geography in profile.get('geographies') or [] %}
        {{ normalise_area(
            coalesced_text(cols, geography['columns']),
            geography.get('normalise') or 'none'
        ) }} as {{ geo_column(geography['level']) }},
        {%- endfor %}

        ---------- numerics
        {# latitude/longitude win; the GeoJSON point is the fallback. #}
        coalesce(
            {{ dbt.safe_cast(
                profile_field(cols, profile, 'latitude', sentinels),
                type_double()
            ) }},
            {{ dbt.safe_cast(
                json_coordinate(profile_field(cols, profile, 'location'), 1),
                type_double()
            ) }}
        ) as source_latitude,
        coalesce(
            {{ dbt.safe_cast(
                profile_field(cols, profile, 'longitude', sentinels),
                type_double()
            ) }},
            {{ dbt.safe_cast(
                json_coordinate(profile_field(cols, profile, 'location'), 0),
                type_double()
            ) }}
        ) as source_longitude,

        ---------- timestamps
        {{ parse_local_timestamp(profile_field(cols, profile, 'occurred_at')) }}
            as occurred_at_local,
        {{ parse_local_timestamp(profile_field(cols, profile, 'reported_at')) }}
            as reported_at_local,
        {{ parse_utc_timestamp(coalesced_text(cols, ['socrata_created_at'])) }}
            as source_created_at,
        {{ parse_utc_timestamp(coalesced_text(cols, ['socrata_updated_at'])) }}
            as source_updated_at

    from source

),

validated as (

    select
        *,
        {# 0 and points outside the city are geocoding failures, not places. #}
        coalesce(
            {%- if bbox %}
            source_latitude
            between {{ bbox['min_lat'] }} and {{ bbox['max_lat'] }}
            and source_longitude
            between {{ bbox['min_lon'] }} and {{ bbox['max_lon'] }},
            {%- else %}
            source_latitude between -90 and 90
            and source_longitude between -180 and 180
            and not (source_latitude = 0 and source_longitude = 0),
            {%- endif %}
            false
        ) as has_valid_coordinates,
        {{ to_utc_timestamp('occurred_at_local', profile['timezone']) }}
            as occurred_at,
        {{ to_utc_timestamp('reported_at_local', profile['timezone']) }}
            as reported_at,
        cast(occurred_at_local as date) as occurred_date

    from typed

),

final as (

    select
        ---------- ids
        record_key,
        case_number,
        socrata_row_id,
        source_id,
        dlt_load_id,

        ---------- strings
        incident_type,
        parent_incident_type,
        description,
        address,
        {%- for geography in profile.get('geographies') or [] %}
        {{ geo_column(geography['level']) }},
        {%- endfor %}

        ---------- numerics
        case when has_valid_coordinates then source_latitude end as latitude,
        case when has_valid_coordinates then source_longitude end as longitude,

        ---------- booleans
        has_valid_coordinates,

        ---------- dates
        occurred_date,

        ---------- timestamps
        occurred_at_local,
        occurred_at,
        reported_at_local,
        reported_at,
        source_created_at,
        source_updated_at

    from validated

)

select * from final
