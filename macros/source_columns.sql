{#
    Staging reads raw.incidents through the profile's field -> column lists.
    The raw table evolves with the source: Socrata omits a key whose value is
    null, so a column null in every fetched row never reaches raw, and
    portals rename fields over the years (neighborhood_1 -> neighborhood).
    So staging asks the warehouse which columns exist once per compile and
    coalesces the present candidates ROW BY ROW (first non-null wins); a
    field with none present is a typed null, and a required one stops the
    compile naming the column.
#}
{#-
    Lower-case column names of a source table in the warehouse, or none when
    the table does not exist (parse, lint on an empty warehouse).
-#}
{% macro source_column_names(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = source_relation(source_name, table_name) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{#-
    The candidates present in the table (quoted), in profile order. When the
    table's columns are unknown (none: parse, lint) every candidate is used.
-#}
{% macro present_columns(available, candidates) -%}
    {%- set names = [candidates] if candidates is string else candidates -%}
    {%- set present = [] -%}
    {%- for candidate in names or [] -%}
        {%- if available is none or (candidate | lower) in available -%}
            {%- do present.append(adapter.quote(candidate | lower)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(present) }}
{%- endmacro %}


{#- clean_text of the first non-null present candidate, row by row; else a typed null. -#}
{% macro coalesced_text(available, candidates, sentinels=[]) -%}
    {%- set cleaned = [] -%}
    {%- for column in present_columns(available, candidates) -%}
        {%- do cleaned.append(clean_text(column, sentinels)) -%}
    {%- endfor -%}
    {%- if cleaned | length == 0 -%}
        {{ return('cast(null as ' ~ dbt.type_string() ~ ')') }}
    {%- elif cleaned | length == 1 -%}
        {{ return(cleaned[0]) }}
    {%- endif -%}
    {{ return('coalesce(' ~ cleaned | join(', ') ~ ')') }}
{%- endmacro %}


{#- The expression of a Blotter field of the profile (see coalesced_text). -#}
{% macro profile_field(available, profile, field, sentinels=[]) -%}
    {%- set candidates = (profile.get('fields') or {}).get(field) or [] -%}
    {%- if field in ('record_key', 'occurred_at') and available is not none
        and present_columns(available, candidates) | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            'source lacks required column ' ~ candidates | join(' or ')
            ~ ' (field ' ~ field ~ ' of source profile '
            ~ profile.get('name') ~ '): check the source, or the field\'s '
            ~ 'columns in ingestion/profiles/' ~ profile.get('name') ~ '.yml') }}
    {%- endif -%}
    {{ return(coalesced_text(available, candidates, sentinels)) }}
{%- endmacro %}


{#- Trimmed text with blanks, 'UNKNOWN'-like and profile sentinels as null. -#}
{% macro clean_text(expression, sentinels=[]) -%}
    {%- set nulls = ['', 'UNKNOWN', 'NULL', 'N/A'] -%}
    {%- for sentinel in sentinels -%}
        {%- if (sentinel | upper) not in nulls -%}
            {%- do nulls.append(sentinel | upper) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set literals = [] -%}
    {%- for value in nulls -%}
        {%- do literals.append(sql_string(value)) -%}
    {%- endfor -%}
    case
        when upper(trim({{ expression }})) in ({{ literals | join(', ') }})
            then null
        else trim({{ expression }})
    end
{%- endmacro %}


{#-
    A geography area as the profile says to normalise it: integer_code turns
    '017' and '17.0' into '17' (codes the API and exports spell differently);
    anything that is not a number is kept as it is.
-#}
{% macro normalise_area(expression, how='none') -%}
    {%- if how == 'integer_code' -%}
        coalesce(
            cast(
                cast(
                    {{ dbt.safe_cast(expression, type_double()) }}
                    as {{ dbt.type_bigint() }}
                ) as {{ dbt.type_string() }}
            ),
            {{ expression }}
        )
    {%- else -%}
        {{ expression }}
    {%- endif -%}
{%- endmacro %}
