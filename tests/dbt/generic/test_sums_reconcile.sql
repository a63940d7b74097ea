{#-
    Reconciliation: summed over everything but group_by, the model's column
    (nulls as 0) equals the `to` model's column for every group, and neither
    side has a group the other lacks. E.g. a type breakdown per area-week must
    add up to the area-week total. Fails with one row per group that differs.
-#}
{% test sums_reconcile(
    model,
    to,
    group_by,
    column='incidents',
    to_column='incidents',
    to_where='1 = 1'
) %}

with

model_sums as (

    select
        {{ group_by | join(', ') }},
        sum(coalesce({{ column }}, 0)) as model_total
    from {{ model }}
    group by {{ group_by | join(', ') }}

),

to_sums as (

    select
        {{ group_by | join(', ') }},
        sum(coalesce({{ to_column }}, 0)) as to_total
    from {{ to }}
    where {{ to_where }}
    group by {{ group_by | join(', ') }}

)

select
    {%- for column_name in group_by %}
    coalesce(model_sums.{{ column_name }}, to_sums.{{ column_name }})
        as {{ column_name }},
    {%- endfor %}
    model_sums.model_total,
    to_sums.to_total
from model_sums
full outer join to_sums
    on
    {%- for column_name in group_by %}
        {{ 'and ' if not loop.first }}model_sums.{{ column_name }}
        = to_sums.{{ column_name }}
    {%- endfor %}
where
    model_sums.model_total is null
    or to_sums.to_total is null
    or model_sums.model_total != to_sums.to_total

{% endtest %}
