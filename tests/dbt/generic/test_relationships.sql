{#-
    dbt's relationships test (overrides the built-in one): fails with one
    row per row of the (where-filtered) model whose non-null column_name
    value has no row in `to` whose field equals it.
    On DuckDB the child's values are grouped before the join, and each
    value without a parent is repeated once per child row that holds it
    (range of its count): the same failing rows, but the join probes each
    distinct value once instead of every row (fct_incident_areas'
    geography_id at 10M incidents: 0.56 -> 0.16 CPU s, BENCHMARKS.md w42).
    Other engines run dbt's own SQL.
-#}
{% test relationships(model, column_name, to, field) %}

{%- if target.type != 'duckdb' -%}
    {{ adapter.dispatch('test_relationships', 'dbt')(
        model, column_name, to, field) }}
{%- else %}

with

child as (

    select
        {{ column_name }} as from_field,
        count(*) as child_rows
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ column_name }}

),

parent as (

    select {{ field }} as to_field
    from {{ to }}

)

select child.from_field
from child
left join parent
    on child.from_field = parent.to_field
cross join range(child.child_rows) as repeated (n)
where parent.to_field is null

{%- endif %}

{% endtest %}
