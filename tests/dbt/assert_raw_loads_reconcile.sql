{#
    Issue 16: every raw load is exactly what int_incidents_deduplicated
    holds of it. Raw keeps one row per record key (dlt merges on it), so a
    load's raw rows and its rows in the model match in number unless a row
    was skipped by the incremental window (a load id older than the newest
    merged: a skewed clock, a row written into an old load), a record has a
    second raw row (a broken merge: the incremental result would then
    differ from a full refresh), or a record key is missing. Fails with one
    row per such load; staging's relationships test lists the keys of the
    loads that lost rows. Counting per load reads only the load id column,
    so this checks all of history on every build.
#}

with

landed as (

    select
        dlt_load_id,
        count(*) as raw_rows
    from {{ ref('stg_socrata__incidents') }}
    group by dlt_load_id

),

merged as (

    select
        dlt_load_id,
        count(*) as merged_rows
    from {{ ref('int_incidents_deduplicated') }}
    group by dlt_load_id

)

select
    coalesce(landed.dlt_load_id, merged.dlt_load_id) as dlt_load_id,
    coalesce(landed.raw_rows, 0) as raw_rows,
    coalesce(merged.merged_rows, 0) as merged_rows
from landed
full outer join merged on landed.dlt_load_id = merged.dlt_load_id
where coalesce(landed.raw_rows, 0) != coalesce(merged.merged_rows, 0)
