{#-
    Hash of the given columns' values (md5 hex via dbt.hash): each value cast
    to text, nulls spelled out and values separated, so that ('a', null) and
    (null, 'a') differ. Compared within one engine only (DuckDB and BigQuery
    spell doubles differently).
    One concat() call, not dbt.concat's chain of ||: DuckDB builds every
    intermediate string of the chain (a 1M-row snapshot spent most of its
    hash there). Every part is non-null, so both spell the same text and
    hashes stored before stay equal.
-#}
{% macro content_hash(columns) -%}
    {%- if columns | length == 0 -%}
        {{ return("cast(null as " ~ dbt.type_string() ~ ")") }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first -%}
            {%- do parts.append("'|'") -%}
        {%- endif -%}
        {%- do parts.append(
            "coalesce(cast(" ~ adapter.quote(column) ~ " as "
            ~ dbt.type_string() ~ "), '<null>')"
        ) -%}
    {%- endfor -%}
    {{ return(dbt.hash("concat(" ~ parts | join(", ") ~ ")")) }}
{%- endmacro %}
