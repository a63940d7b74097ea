{#-
    Fails on rows where the expression is false (null passes, as in
    dbt_utils). With column_name the expression is appended to it (e.g.
    column 'incidents', expression '>= 0').
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where
    not (
        {%- if column_name is not none %} {{ column_name }}{% endif %}
        {{ expression }}
    )

{% endtest %}
