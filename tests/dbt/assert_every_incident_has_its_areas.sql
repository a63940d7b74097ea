{#
    Every published incident has exactly one fct_incident_areas row per
    geography level of the source profile, the city included. An area row
    lost on the way (e.g. by the pseudonym join in fct_incident_areas) would
    drop the incident from every count and map by area, and no other test
    would notice: relationships checks area -> incident, not the reverse.

    Counted per load and level instead of joined per incident: grouping two
    short columns is ~40x cheaper than joining 64-character pseudonyms on a
    first build (BENCHMARKS.md). An area row carries its incident's load, so
    a lost row leaves its (load, level) one short. Together with the
    uniqueness and relationships tests on fct_incident_areas, masking it
    would take a second, matching fault; a row left on an older load than
    its incident's shows up here too, in both loads.
    Only the incidents a daily build can have changed are checked (both
    tables merge the same records with the same window); a --full-refresh
    checks every incident. The window is read through recent_rows_read
    where the engine has one: on DuckDB one select per disjoint branch of
    recent_rows_predicate, each pushed into the scan, so the same rows are
    counted without reading the whole history (0.94 -> 0.15 CPU s at 10M
    incidents, BENCHMARKS.md w42).
#}
{%- set incidents = ref('fct_incidents') -%}
{%- set areas = ref('fct_incident_areas') -%}
{%- set incidents_read = recent_rows_read(incidents) -%}
{%- set areas_read = recent_rows_read(areas) -%}

with

incidents_per_load as (

    select
        coalesce(dlt_load_id, '(none)') as dlt_load_id,
        count(*) as incidents
    {%- if incidents_read %}
    from ({{ incidents_read }}) as windowed
    {%- else %}
    from {{ incidents }}
    where {{ recent_rows_predicate(incidents) }}
    {%- endif %}
    group by coalesce(dlt_load_id, '(none)')

),

levels as (

    {% for level in geo_levels() %}
        select {{ sql_string(level['level']) }} as geo_level
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

expected as (

    select
        incidents_per_load.dlt_load_id,
        levels.geo_level,
        incidents_per_load.incidents
    from incidents_per_load
    cross join levels

),

areas_per_load as (

    select
        coalesce(dlt_load_id, '(none)') as dlt_load_id,
        geo_level,
        count(*) as area_rows
    {%- if areas_read %}
    from ({{ areas_read }}) as windowed
    {%- else %}
    from {{ areas }}
    where {{ recent_rows_predicate(areas) }}
    {%- endif %}
    group by coalesce(dlt_load_id, '(none)'), geo_level

)

select
    coalesce(expected.dlt_load_id, areas_per_load.dlt_load_id) as dlt_load_id,
    coalesce(expected.geo_level, areas_per_load.geo_level) as geo_level,
    coalesce(expected.incidents, 0) as incidents,
    coalesce(areas_per_load.area_rows, 0) as area_rows
from expected
full outer join areas_per_load
    on
        expected.dlt_load_id = areas_per_load.dlt_load_id
        and expected.geo_level = areas_per_load.geo_level
where coalesce(expected.incidents, 0) != coalesce(areas_per_load.area_rows, 0)
