{#-
    The column holds only geography levels of the source profile (and `city`
    unless include_city is false): the accepted values come from the profile,
    so a new city needs no dbt change and Buffalo stays as strict as before.
    Fails with one row per unexpected level; passes when no profile is landed
    (a warehouse without raw data).
-#}
{% test accepted_geo_levels(model, column_name, include_city=true) %}

{%- set profile = source_profile() -%}
{%- set levels = geo_levels(include_city) | map(attribute='level') | list -%}

select
    {{ column_name }} as unexpected_level,
    count(*) as n_records
from {{ model }}
where
    {{ column_name }} is not null
    {#- Without a landed profile (a marts-only warehouse) there is no list. #}
    {%- if profile.get('is_fallback') %}
    and 1 = 0
    {%- elif levels %}
    and {{ column_name }} not in (
        {%- for level in levels -%}
            {{ sql_string(level) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    )
    {%- endif %}
group by {{ column_name }}

{% endtest %}
