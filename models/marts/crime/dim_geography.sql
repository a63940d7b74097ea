{#
    Every area of every geography level of the source profile: the official
    areas (raw.source_geographies), the areas seen in the data, each level's
    'UNKNOWN' bucket when used, and the city itself (level 0). Levels, labels
    and order come from the profile, so a new city needs no dbt change.
#}
{#-
    The areas seen are counted from int_incidents_deduplicated with
    int_incident_areas' rule (a level's area, 'UNKNOWN' when missing; the
    city for level 0), not from that view (issue 16 P2): the view unpivots
    every incident once per level through int_incidents_classified's type
    joins, most of this model's daily time at 1M. The same rows: the
    classified view has one row per deduplicated row (left joins on the
    type maps' keys, unique in staging; its record_key test), and its areas
    are coalesces of the same table's columns. One pass groups the
    incidents by their combination of areas; each level rolls that up
    (sums, min of mins, max of maxes are exact). Still one pass over every
    incident, so its cost grows with history, a third of the view's at 1M;
    BENCHMARKS.md g38 says why it is not incremental.
-#}
{%- set profile = source_profile() %}
-- depends_on: {{ ref('int_incident_areas') }}

with

official_areas as (

    select * from {{ ref('stg_socrata__geographies') }}

),

incidents as (

    select * from {{ ref('int_incidents_deduplicated') }}

),

area_combinations as (

    {#- One pass over the incidents: each combination of their areas (a few
        dozen rows), which every level's summary below rolls up. #}
    {%- set columns = [] %}
    {%- for level in geo_levels(include_city=false) %}
    {%- do columns.append(level['geo_expression']) %}
    {%- endfor %}
    select
        count(*) as incidents,
        min(occurred_date) as first_occurred_date,
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        max(occurred_date) as last_occurred_date
    from incidents
    {%- if columns %}
    group by {{ columns | join(', ') }}
    {%- endif %}

),

levels as (

    {%- for level in geo_levels() %}
    select
        {{ sql_string(level['level']) }} as geo_level,
        {{ sql_string(level['label']) }} as geo_level_label,
        {{ level['order'] }} as level_order
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

observed_summary as (

    {#- One aggregate per level: int_incident_areas' geo_level and geo,
        with int_incidents_classified's 'UNKNOWN' for a missing area. #}
    {%- for level in geo_levels() %}
    {%- set geo = (
        level['geo_expression'] if level['level'] == city_level()
        else "coalesce(" ~ level['geo_expression'] ~ ", 'UNKNOWN')"
    ) %}
    select
        cast({{ sql_string(level['level']) }} as {{ dbt.type_string() }})
            as geo_level,
        cast({{ geo }} as {{ dbt.type_string() }}) as geo,
        sum(incidents) as incidents,
        min(first_occurred_date) as first_occurred_date,
        max(last_occurred_date) as last_occurred_date
    from area_combinations
    {%- if level['level'] == city_level() %}
    {#- One row for the whole city, none when there is no incident. #}
    having sum(incidents) > 0
    {%- else %}
    group by {{ geo }}
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

official as (

    select
        geo_level,
        geo
    from official_areas
    union all
    select
        {{ sql_string(city_level()) }} as geo_level,
        {{ sql_string(profile['city_name']) }} as geo

),

all_areas as (

    select
        geo_level,
        geo
    from official
    union distinct
    select
        geo_level,
        geo
    from observed_summary

),

final as (

    select
        ---------- ids
        {{ dbt.hash(
            dbt.concat(['all_areas.geo_level', "'|'", 'all_areas.geo'])
        ) }} as geography_id,

        ---------- strings
        all_areas.geo_level,
        levels.geo_level_label,
        all_areas.geo,

        ---------- numerics
        cast(levels.level_order as {{ dbt.type_bigint() }}) as level_order,
        cast(coalesce(observed_summary.incidents, 0) as {{ dbt.type_bigint() }})
            as incidents,

        ---------- booleans
        official.geo is not null as is_official,
        all_areas.geo = 'UNKNOWN' as is_unknown_bucket,
        observed_summary.geo is not null as has_incidents,

        ---------- dates
        observed_summary.first_occurred_date,
        observed_summary.last_occurred_date

    from all_areas
    left join levels on all_areas.geo_level = levels.geo_level
    left join official
        on
            all_areas.geo_level = official.geo_level
            and all_areas.geo = official.geo
    left join observed_summary
        on
            all_areas.geo_level = observed_summary.geo_level
            and all_areas.geo = observed_summary.geo

)

select * from final
