{#-
    Small-cell protection (issue 8): no published count lies in 1..k-1. With a
    suppression_flag column, a flagged cell must carry a null count and an
    unflagged one a real count. Zero cells are allowed: they are not about
    anyone.
-#}
{% test k_anonymity(
    model, column_name, k=none, suppression_flag=none
) %}

{%- set k = k if k is not none else var('k_anonymity_threshold', 5) -%}

select *
from {{ model }}
where
    ({{ column_name }} > 0 and {{ column_name }} < {{ k }})
    {%- if suppression_flag is not none %}
        or ({{ suppression_flag }} and {{ column_name }} is not null)
        or (not {{ suppression_flag }} and {{ column_name }} is null)
    {%- endif %}

{% endtest %}
