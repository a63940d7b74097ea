{#- Fails on rows whose value lies outside [min_value, max_value]; nulls pass. -#}
{% test accepted_range(
    model, column_name, min_value=none, max_value=none, inclusive=true
) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error(
        'accepted_range needs min_value, max_value or both') }}
{%- endif -%}
{%- set low = '>=' if inclusive else '>' -%}
{%- set high = '<=' if inclusive else '<' -%}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and not (
        {%- if min_value is not none %}
            {{ column_name }} {{ low }} {{ min_value }}
        {%- endif %}
        {%- if min_value is not none and max_value is not none %} and {% endif %}
        {%- if max_value is not none %}
            {{ column_name }} {{ high }} {{ max_value }}
        {%- endif %}
    )

{% endtest %}
