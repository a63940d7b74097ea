{#
    SCD2 history of every incident as the portal revised it: dlt's merge keeps
    only the latest version in raw, this keeps them all. Restricted (schema
    snapshots): it holds case numbers and exact locations. Rows without
    :updated_at fall back to when the portal created them.
#}
{% snapshot snap_incidents %}

{{ config(
    schema='snapshots',
    unique_key='case_number',
    strategy='timestamp',
    updated_at='revision_updated_at',
    hard_deletes='ignore',
) }}

with

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

final as (

    select
        *,
        coalesce(source_updated_at, source_created_at, occurred_at)
            as revision_updated_at
    from incidents

)

select * from final

{% endsnapshot %}
