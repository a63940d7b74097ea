{#-
    Coordinates lie inside the source profile's city box (widened by
    `tolerance` degrees, e.g. half a grid step for snapped coordinates);
    nulls pass. Without a box in the profile, only world ranges are checked.
    Fails with one row per point outside.
    On DuckDB the points outside are read as four disjoint selects (south,
    north, then west and east within the box's latitudes), whose plain
    comparisons DuckDB pushes into the scan: its row-group statistics skip
    every group inside the box (10M incidents: 0.15-0.17 -> 0.00 CPU s each,
    BENCHMARKS.md w42), where `not (... between ...)` reads every row. The
    branches hold the same rows as that predicate, also when the box is
    empty (min above max). BigQuery, which bills each select's columns,
    keeps the one predicate.
-#}
{% test within_bbox(model, latitude, longitude, tolerance=0) %}

{%- set bbox = source_profile().get('bbox') -%}
{%- set margin = tolerance | float -%}
{%- if bbox -%}
    {%- set south, north = bbox['min_lat'] - margin, bbox['max_lat'] + margin -%}
    {%- set west, east = bbox['min_lon'] - margin, bbox['max_lon'] + margin -%}
{%- else -%}
    {%- set south, north, west, east = -90, 90, -180, 180 -%}
{%- endif -%}
{%- set inside_lat = latitude ~ ' between ' ~ south ~ ' and ' ~ north -%}
{%- set select_point -%}
    select
        {{ latitude }} as latitude,
        {{ longitude }} as longitude
    from {{ model }}
{%- endset -%}

{%- if target.type == 'duckdb' %}

{{ select_point }}
where {{ longitude }} is not null and {{ latitude }} < {{ south }}
union all
{{ select_point }}
where
    {{ longitude }} is not null
    and {{ latitude }} >= {{ south }}
    and {{ latitude }} > {{ north }}
union all
{{ select_point }}
where {{ inside_lat }} and {{ longitude }} < {{ west }}
union all
{{ select_point }}
where
    {{ inside_lat }}
    and {{ longitude }} >= {{ west }}
    and {{ longitude }} > {{ east }}

{%- else %}

{{ select_point }}
where
    {{ latitude }} is not null
    and {{ longitude }} is not null
    and not (
        {{ inside_lat }}
        and {{ longitude }} between {{ west }} and {{ east }}
    )

{%- endif %}

{% endtest %}
