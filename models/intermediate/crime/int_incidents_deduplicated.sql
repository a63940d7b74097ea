{#
    dlt merges on the profile's record key, so raw should already hold one
    row per record; this guards the marts when a replayed or partial load
    leaves duplicates (the staging unique test still fails the build on them).

    Incremental, not a view: parsing and deduplicating every raw row is the
    costliest step, and fct_incidents, the snapshot and a dozen tests read it.
    The lookback filter sits before the dedup so DuckDB parses only recent raw
    rows; that is exact because the latest version of a case is at least as
    recent as any version inside the window. Rows of a load newer than any
    merged here are in the window too, however old their :updated_at
    (incremental_where's load_column).
#}
{#- Geography columns follow the profile: drop the ones it no longer has. #}
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='record_key',
    on_schema_change='sync_all_columns',
) }}

with

incidents as (

    select * from {{ ref('stg_socrata__incidents') }}
    {#- Rows without :updated_at cannot be windowed; they are re-merged. #}
    where {{ incremental_where(
        'source_updated_at', keep_nulls=true, load_column='dlt_load_id'
    ) }}

),

deduplicated as (

    {#- BigQuery wants a where clause next to qualify. #}
    select *
    from incidents
    where record_key is not null
    qualify row_number() over (
        partition by record_key
        order by source_updated_at desc nulls last, dlt_load_id desc
    ) = 1

)

select * from deduplicated
