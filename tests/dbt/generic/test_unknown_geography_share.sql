{#-
    Issue 13.1: in the latest load window (the rows of the most recent dlt
    load, i.e. what the source published since the last run), the share of
    incidents without an area (null geo_<level> in staging: the UNKNOWN
    bucket later) stays at or below max_share for every geography level of
    the profile. A renamed or dropped source column shows up here first.
    Fails with one row per level above the threshold.
-#}
{% test unknown_geography_share(model, max_share, load_column='dlt_load_id') %}

{%- set levels = geo_levels(include_city=false) -%}

with

latest_load as (

    select
        {{ load_column }} as load_id,
        count(*) as incidents
    from {{ model }}
    where {{ load_column }} is not null
    group by {{ load_column }}
    order by cast({{ load_column }} as {{ type_double() }}) desc
    limit 1

),

window_rows as (

    select incidents.*
    from {{ model }} as incidents
    inner join latest_load
        on incidents.{{ load_column }} = latest_load.load_id

),

shares as (

    {%- for geography in levels %}
    select
        {{ sql_string(geography['level']) }} as geo_level,
        count(*) as incidents,
        sum(
            case when {{ geo_column(geography['level']) }} is null then 1 else 0 end
        ) as unknown_incidents
    from window_rows
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- if not levels %}
    select
        cast(null as {{ dbt.type_string() }}) as geo_level,
        0 as incidents,
        0 as unknown_incidents
    {%- endif %}

)

select
    geo_level,
    incidents,
    unknown_incidents
from shares
where unknown_incidents > {{ max_share | float }} * incidents

{% endtest %}
