{#
    SCD2 history of every incident as the portal revised it: dlt's merge keeps
    only the latest version in raw, this keeps them all. Restricted (schema
    snapshots): it holds case numbers and exact locations. Rows without
    :updated_at fall back to when the portal created them. Once the snapshot
    exists only versions inside the lookback window are compared: a revision
    always moves revision_updated_at forward, and hard deletes are ignored,
    so older rows cannot produce a new version.
#}
{% snapshot snap_incidents %}

{{ config(
    schema='snapshots',
    unique_key='case_number',
    strategy='timestamp',
    updated_at='revision_updated_at',
    hard_deletes='ignore',
) }}

{%- set window_start = incremental_lookback_start(
    'dbt_updated_at', for_snapshot=true
) %}

with

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

versioned as (

    select
        *,
        coalesce(source_updated_at, source_created_at, occurred_at)
            as revision_updated_at
    from incidents

),

final as (

    select * from versioned
    {%- if window_start is not none %}
    where revision_updated_at >= {{ window_start }}
    {%- endif %}

)

select * from final

{% endsnapshot %}
