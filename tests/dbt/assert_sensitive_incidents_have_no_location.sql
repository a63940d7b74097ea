{#
    Issue 8: a sensitive offence is published with area-level geography only,
    whatever its source row carries.
#}
with

incidents as (

    select * from {{ ref('fct_incidents') }}

),

types as (

    select * from {{ ref('dim_incident_type') }}

)

select incidents.incident_id
from incidents
inner join types on incidents.incident_type = types.incident_type
where
    (types.is_sensitive or incidents.is_sensitive)
    and (
        incidents.address_block is not null
        or incidents.grid_latitude is not null
        or incidents.grid_longitude is not null
    )
