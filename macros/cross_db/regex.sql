{% macro regex_contains(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_contains', 'blotter')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_contains(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro bigquery__regex_contains(expression, pattern) -%}
    regexp_contains({{ expression }}, r'{{ pattern }}')
{%- endmacro %}


{#- The first capture group of pattern, or null when it does not match. -#}
{% macro regex_extract(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_extract', 'blotter')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_extract(expression, pattern) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro bigquery__regex_extract(expression, pattern) -%}
    regexp_extract({{ expression }}, r'{{ pattern }}')
{%- endmacro %}


{#- Removes every match of pattern. -#}
{% macro regex_remove(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_remove', 'blotter')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_remove(expression, pattern) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '', 'g')
{%- endmacro %}

{% macro bigquery__regex_remove(expression, pattern) -%}
    regexp_replace({{ expression }}, r'{{ pattern }}', '')
{%- endmacro %}
