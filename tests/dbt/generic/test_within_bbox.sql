{#-
    Coordinates lie inside the source profile's city box (widened by
    `tolerance` degrees, e.g. half a grid step for snapped coordinates);
    nulls pass. Without a box in the profile, only world ranges are checked.
    Fails with one row per point outside.
-#}
{% test within_bbox(model, latitude, longitude, tolerance=0) %}

{%- set bbox = source_profile().get('bbox') -%}
{%- set margin = tolerance | float -%}

select
    {{ latitude }} as latitude,
    {{ longitude }} as longitude
from {{ model }}
where
    {{ latitude }} is not null
    and {{ longitude }} is not null
    and not (
        {%- if bbox %}
        {{ latitude }} between {{ bbox['min_lat'] - margin }}
        and {{ bbox['max_lat'] + margin }}
        and {{ longitude }} between {{ bbox['min_lon'] - margin }}
        and {{ bbox['max_lon'] + margin }}
        {%- else %}
        {{ latitude }} between -90 and 90
        and {{ longitude }} between -180 and 180
        {%- endif %}
    )

{% endtest %}
