{#
    One row per raw.incidents row: typed, renamed to business names, trimmed.
    Floating local timestamps keep a *_local column and get a UTC *_at twin.
    Optional and drifting columns go through first_existing_column so that an
    older snapshot (neighborhood_1) or a new column (zip_code) does not break.
#}
{%- set cols = source_column_names('socrata', 'incidents') -%}
{%- set bbox = var('city_bbox') -%}

with

source as (

    select * from {{ source('socrata', 'incidents') }}

),

typed as (

    select
        ---------- ids
        trim(case_number) as case_number,
        {{ raw_text(cols, 'incident_id') }}
            as source_incident_id,
        {{ first_existing_column(cols, ['socrata_id']) }}
            as socrata_row_id,
        _dlt_load_id as dlt_load_id,

        ---------- strings
        {{ clean_text('incident_type_primary') }} as incident_type,
        {{ clean_text('parent_incident_type') }} as parent_incident_type,
        {{ clean_text('incident_description') }} as description,
        {{ raw_text(cols, 'address_1') }}
            as address,
        {{ raw_text(cols, 'city') }} as city,
        {{ raw_text(cols, 'state') }} as state,
        {{ raw_text(cols, 'zip_code') }}
            as zip_code,
        {{ raw_text(cols, ['neighborhood', 'neighborhood_1']) }}
            as neighborhood,
        {{ clean_text('police_district') }} as police_district,
        {{ clean_text('council_district') }} as council_district,
        {{ raw_text(cols, 'census_tract') }}
            as census_tract,
        {{ raw_text(cols, 'census_block_group') }}
            as census_block_group,
        {{ raw_text(cols, 'census_block') }}
            as census_block,
        {{ raw_text(cols, 'census_tract_2010') }}
            as census_tract_2010,
        {{ raw_text(cols, 'census_block_group_2010') }}
            as census_block_group_2010,
        {{ raw_text(cols, 'census_block_2010') }}
            as census_block_2010,
        {{ raw_text(cols, 'tractce20') }}
            as census_tract_code_2020,
        {{ raw_text(cols, 'geoid20_tract') }}
            as census_tract_geoid_2020,
        {{ raw_text(cols, 'geoid20_blockgroup') }}
            as census_block_group_geoid_2020,
        {{ raw_text(cols, 'geoid20_block') }}
            as census_block_geoid_2020,

        ---------- numerics
        {# latitude/longitude win; the GeoJSON point is the fallback. #}
        coalesce(
            {{ dbt.safe_cast(
                raw_text(cols, 'latitude'),
                type_double()
            ) }},
            {{ dbt.safe_cast(
                json_coordinate(first_existing_column(cols, ['location']), 1),
                type_double()
            ) }}
        ) as source_latitude,
        coalesce(
            {{ dbt.safe_cast(
                raw_text(cols, 'longitude'),
                type_double()
            ) }},
            {{ dbt.safe_cast(
                json_coordinate(first_existing_column(cols, ['location']), 0),
                type_double()
            ) }}
        ) as source_longitude,
        {{ dbt.safe_cast(
            raw_text(cols, 'hour_of_day'),
            dbt.type_bigint()
        ) }} as source_hour_of_day,
        {{ raw_text(cols, 'day_of_week') }}
            as source_day_of_week,

        ---------- timestamps
        {{ parse_local_timestamp('incident_datetime') }} as occurred_at_local,
        {{ parse_local_timestamp(
            first_existing_column(cols, ['created_at'])
        ) }} as reported_at_local,
        {{ parse_utc_timestamp(
            first_existing_column(cols, ['socrata_created_at'])
        ) }} as source_created_at,
        {{ parse_utc_timestamp(
            first_existing_column(cols, ['socrata_updated_at'])
        ) }} as source_updated_at

    from source

),

validated as (

    select
        *,
        {# 0 and points outside the city are geocoding failures, not places. #}
        coalesce(
            source_latitude between {{ bbox.min_lat }} and {{ bbox.max_lat }}
            and source_longitude
            between {{ bbox.min_lon }} and {{ bbox.max_lon }},
            false
        ) as has_valid_coordinates,
        {{ to_utc_timestamp('occurred_at_local') }} as occurred_at,
        {{ to_utc_timestamp('reported_at_local') }} as reported_at,
        cast(occurred_at_local as date) as occurred_date

    from typed

),

final as (

    select
        ---------- ids
        case_number,
        source_incident_id,
        socrata_row_id,
        dlt_load_id,

        ---------- strings
        incident_type,
        parent_incident_type,
        description,
        address,
        city,
        state,
        zip_code,
        neighborhood,
        police_district,
        council_district,
        census_tract,
        census_block_group,
        census_block,
        census_tract_2010,
        census_block_group_2010,
        census_block_2010,
        census_tract_code_2020,
        census_tract_geoid_2020,
        census_block_group_geoid_2020,
        census_block_geoid_2020,
        source_day_of_week,

        ---------- numerics
        case when has_valid_coordinates then source_latitude end as latitude,
        case when has_valid_coordinates then source_longitude end as longitude,
        source_hour_of_day,

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
