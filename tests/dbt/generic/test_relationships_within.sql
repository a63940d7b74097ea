{#-
    dbt's relationships test with the parent narrowed too: fails with one
    row per non-null column_name value of the (where-filtered) model that
    has no row in `to` whose field equals it and that passes to_where.
    to_where '__recent_rows__' is the parent's own daily window
    (recent_rows_predicate of `to`), read through recent_rows_read where
    the engine has one, so that DuckDB reads only the window's rows. A
    narrower parent can only add failures, never hide one; it is exact when
    every tested row's parent passes to_where. The model is read in a CTE: with a `where`
    config dbt passes it as an aliased subquery.
-#}
{% test relationships_within(model, column_name, to, field, to_where='true') %}

{%- set to_where = to_where | string | trim -%}
{%- set read = recent_rows_read(to) if to_where == '__recent_rows__' else none -%}
{%- if '__recent_rows__' in to_where -%}
    {%- set to_where = to_where | replace(
        '__recent_rows__', recent_rows_predicate(to)
    ) -%}
{%- endif %}

with

child as (

    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null

),

parent as (

    select {{ field }} as to_field
    {%- if read %}
    from ({{ read }}) as windowed
    {%- else %}
    from {{ to }}
    where {{ to_where }}
    {%- endif %}

)

select child.from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null

{% endtest %}
