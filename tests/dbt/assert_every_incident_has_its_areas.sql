{#
    Every published incident has exactly one fct_incident_areas row per
    geography level of the source profile, the city included. An area row
    lost on the way (e.g. by the pseudonym join in fct_incident_areas) would
    drop the incident from every count and map by area, and no other test
    would notice: relationships checks area -> incident, not the reverse.
    Only the incidents a daily build can have changed are checked (both
    tables merge the same records with the same window); a --full-refresh
    checks every incident.
#}
{%- set incidents = ref('fct_incidents') -%}
{%- set levels = geo_levels() | length -%}

with

recent as (

    select incident_id from {{ incidents }}
    where {{ recent_rows_predicate(incidents) }}

),

areas as (

    select
        areas.incident_id,
        count(*) as area_rows,
        count(distinct areas.geo_level) as area_levels
    from {{ ref('fct_incident_areas') }} as areas
    inner join recent on areas.incident_id = recent.incident_id
    group by areas.incident_id

)

select
    recent.incident_id,
    coalesce(areas.area_rows, 0) as area_rows,
    coalesce(areas.area_levels, 0) as area_levels,
    {{ levels }} as expected_levels
from recent
left join areas on recent.incident_id = areas.incident_id
where
    coalesce(areas.area_rows, 0) != {{ levels }}
    or coalesce(areas.area_levels, 0) != {{ levels }}
