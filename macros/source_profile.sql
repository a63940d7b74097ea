{#
    The source profile (CONTRACTS §D): ingestion lands it as JSON in
    raw.source_profile; dbt reads it at compile time so that staging, the
    marts and the data tests follow the city's own columns, geography levels
    and PII list. Everything a profile puts into SQL is checked here: level
    names are identifiers, labels and names become escaped literals, source
    column names are only used when the raw table has them (quoted).
#}
{% macro source_profile() -%}
    {%- if not execute -%}
        {{ return(fallback_source_profile()) }}
    {%- endif -%}
    {%- set relation = source_relation('socrata', 'source_profile') -%}
    {%- if relation is none -%}
        {%- if source_relation('socrata', 'incidents') is not none -%}
            {{ exceptions.raise_compiler_error(
                'raw.source_profile is missing next to raw.incidents: run '
                ~ '`blotter ingest`, which lands the source profile') }}
        {%- endif -%}
        {#- An empty warehouse (parse, lint): nothing to build anyway. -#}
        {{ return(fallback_source_profile()) }}
    {%- endif -%}
    {#- Read once per invocation (dbt does not change raw): every model and
        test compiling against the profile asked again, a billed query each. -#}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'source_profile ' ~ relation -%}
    {%- if key not in cache -%}
        {%- set documents = run_query(
            'select profile_json from ' ~ relation
        ).columns[0].values() -%}
        {%- if documents | length != 1 -%}
            {{ exceptions.raise_compiler_error(
                'raw.source_profile holds ' ~ documents | length
                ~ ' rows instead of one: run `blotter ingest` to land the profile') }}
        {%- endif -%}
        {%- do cache.update({key: checked_source_profile(fromjson(documents[0]))}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#-
    Only for parse, lint and a warehouse without raw data (e.g. one that holds
    only marts): the two required fields, no levels. Profile-driven data
    tests that need the profile's lists pass vacuously on it.
-#}
{% macro fallback_source_profile() -%}
    {{ return({
        'name': 'fallback',
        'is_fallback': true,
        'city_name': 'City',
        'timezone': 'UTC',
        'bbox': none,
        'fields': {'record_key': ['record_key'], 'occurred_at': ['occurred_at']},
        'coordinate_sentinels': [],
        'geographies': [],
        'pii': [],
    }) }}
{%- endmacro %}


{#- The profile with its SQL-relevant parts validated (one-line errors). -#}
{% macro checked_source_profile(profile) -%}
    {%- set name = profile.get('name') or 'unnamed' -%}
    {%- set where = 'source profile ' ~ name ~ ' (raw.source_profile): ' -%}
    {%- set fix = '; fix ingestion/profiles/' ~ name ~ '.yml and run `blotter ingest`' -%}
    {%- set fields = profile.get('fields') or {} -%}
    {%- for field in ('record_key', 'occurred_at') -%}
        {%- if not fields.get(field) -%}
            {{ exceptions.raise_compiler_error(
                where ~ 'field ' ~ field ~ ' has no source column' ~ fix) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if not modules.re.match('^[A-Za-z0-9_+/-]{1,64}$', profile.get('timezone') or '') -%}
        {{ exceptions.raise_compiler_error(
            where ~ 'timezone ' ~ profile.get('timezone') ~ ' is not an IANA zone' ~ fix) }}
    {%- endif -%}
    {%- set seen = [city_level()] -%}
    {%- for geography in profile.get('geographies') or [] -%}
        {%- set level = geography.get('level') or '' -%}
        {%- if not modules.re.match('^[a-z][a-z0-9_]{0,39}$', level) or level in seen -%}
            {{ exceptions.raise_compiler_error(
                where ~ 'geography level "' ~ level ~ '" must be a unique lower-case '
                ~ 'identifier other than city' ~ fix) }}
        {%- endif -%}
        {%- do seen.append(level) -%}
        {%- if not geography.get('columns') -%}
            {{ exceptions.raise_compiler_error(
                where ~ 'geography level ' ~ level ~ ' has no columns' ~ fix) }}
        {%- endif -%}
        {%- if (geography.get('normalise') or 'none') not in ('none', 'integer_code') -%}
            {{ exceptions.raise_compiler_error(
                where ~ 'geography level ' ~ level ~ ' has unknown normalise '
                ~ geography.get('normalise') ~ fix) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set bbox = profile.get('bbox') -%}
    {%- if bbox -%}
        {%- for corner in ('min_lat', 'max_lat', 'min_lon', 'max_lon') -%}
            {%- if bbox.get(corner) is not number -%}
                {{ exceptions.raise_compiler_error(
                    where ~ 'bbox.' ~ corner ~ ' must be a number' ~ fix) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(profile) }}
{%- endmacro %}


{#-
    THE list of geography levels (issue 15): the city (level 0, geo = the
    profile's city_name) then the profile's levels in order, each with its
    label and order. Every model and test that needs the levels loops over
    this; the profile's own entries (columns, normalise) are kept.
-#}
{% macro geo_levels(include_city=true) -%}
    {%- set profile = source_profile() -%}
    {%- set levels = [] -%}
    {%- if include_city -%}
        {%- do levels.append({
            'level': city_level(),
            'label': 'City',
            'order': 0,
            'geo_expression': sql_string(profile['city_name']),
        }) -%}
    {%- endif -%}
    {%- for geography in profile.get('geographies') or [] -%}
        {%- set level = dict(geography) -%}
        {%- do level.update({
            'label': geography.get('label') or geography['level'],
            'order': loop.index,
            'geo_expression': geo_column(geography['level']),
        }) -%}
        {%- do levels.append(level) -%}
    {%- endfor -%}
    {{ return(levels) }}
{%- endmacro %}


{#- Name of level 0, the whole city (not a profile level). -#}
{% macro city_level() -%}
    {{ return('city') }}
{%- endmacro %}


{#- Column of staging and intermediate that holds a level's area. -#}
{% macro geo_column(level) -%}
    {{ return('geo_' ~ level) }}
{%- endmacro %}


{#- The relation of a source table, or none when it does not exist. -#}
{% macro source_relation(source_name, table_name) -%}
    {%- set nodes = (graph.get('sources') or {}).values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | list -%}
    {%- if nodes -%}
        {{ return(adapter.get_relation(
            database=nodes[0].database,
            schema=nodes[0].schema,
            identifier=nodes[0].identifier
        )) }}
    {%- endif -%}
    {#- Unit tests get a reduced graph: same schema rule as the source. -#}
    {{ return(adapter.get_relation(
        database=target.database,
        schema=dataset_prefix() ~ 'raw',
        identifier=table_name
    )) }}
{%- endmacro %}


{#- A text value as a SQL string literal (quotes escaped per engine). -#}
{% macro sql_string(value) -%}
    {{ return(adapter.dispatch('sql_string', 'blotter')(value | string)) }}
{%- endmacro %}

{% macro default__sql_string(value) -%}
    {{ return("'" ~ value | replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro bigquery__sql_string(value) -%}
    {{ return("'" ~ value | replace("\\", "\\\\") | replace("'", "\\'") ~ "'") }}
{%- endmacro %}
