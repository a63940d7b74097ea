{#
    dlt merges on case_number, so raw should already hold one row per case;
    this guards the marts when a replayed or partial load leaves duplicates
    (the source unique test still fails the build on raw duplicates).

    A table, not a view: parsing and deduplicating every raw row is the
    costliest step, and fct_incidents, the snapshot and a dozen tests read it.
#}
{{ config(materialized='table') }}
with

incidents as (

    select * from {{ ref('stg_socrata__incidents') }}

),

deduplicated as (

    {#- BigQuery wants a where clause next to qualify. #}
    select *
    from incidents
    where case_number is not null
    qualify row_number() over (
        partition by case_number
        order by source_updated_at desc nulls last, dlt_load_id desc
    ) = 1

)

select * from deduplicated
