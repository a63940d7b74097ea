{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'blotter')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double{%- endmacro %}

{% macro bigquery__type_double() -%}float64{%- endmacro %}


{#- Reads one element of a GeoJSON Point's coordinates array ([lon, lat]) as text. -#}
{% macro json_coordinate(column, index) -%}
    {{ return(adapter.dispatch('json_coordinate', 'blotter')(column, index)) }}
{%- endmacro %}

{% macro default__json_coordinate(column, index) -%}
    json_extract_string({{ column }}, '$.coordinates[{{ index }}]')
{%- endmacro %}

{% macro bigquery__json_coordinate(column, index) -%}
    json_value({{ column }}, '$.coordinates[{{ index }}]')
{%- endmacro %}


{#- Reads the text at a literal JSON path (BigQuery needs the path as a literal). -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'blotter')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro bigquery__json_text(column, path) -%}
    json_value({{ column }}, '{{ path }}')
{%- endmacro %}


{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'blotter')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro bigquery__sha256_hex(expression) -%}
    to_hex(sha256({{ expression }}))
{%- endmacro %}
