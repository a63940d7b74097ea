{#
    Socrata returns two kinds of timestamps: floating ones (no offset, local to
    the city: incident_datetime, created_at) and fixed UTC ones (:created_at,
    :updated_at, ending in 'Z'). Floating values are parsed as local datetimes
    and converted to UTC with the source profile's time zone; DST gaps and overlaps resolve
    the way each engine's tz database does.
#}
{% macro parse_local_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_local_timestamp', 'blotter')(column)) }}
{%- endmacro %}

{% macro default__parse_local_timestamp(column) -%}
    try_cast({{ column }} as timestamp)
{%- endmacro %}

{% macro bigquery__parse_local_timestamp(column) -%}
    safe_cast({{ column }} as datetime)
{%- endmacro %}


{% macro parse_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'blotter')(column)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(column) -%}
    {#- Through timestamptz so the 'Z' offset is honoured, then back to naive UTC. -#}
    timezone('UTC', try_cast({{ column }} as timestamptz))
{%- endmacro %}

{% macro bigquery__parse_utc_timestamp(column) -%}
    safe_cast({{ column }} as timestamp)
{%- endmacro %}


{% macro to_utc_timestamp(local_timestamp, timezone=none) -%}
    {#- The profile's zone is checked to be an IANA-style name (source_profile). -#}
    {%- set tz = timezone or source_profile().get('timezone') -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'blotter')(local_timestamp, tz)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(local_timestamp, tz) -%}
    timezone('UTC', timezone('{{ tz }}', {{ local_timestamp }}))
{%- endmacro %}

{% macro bigquery__to_utc_timestamp(local_timestamp, tz) -%}
    timestamp({{ local_timestamp }}, '{{ tz }}')
{%- endmacro %}
