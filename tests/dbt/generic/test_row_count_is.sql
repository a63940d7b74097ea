{#- Fails with one row when the model does not hold exactly `expected` rows. -#}
{% test row_count_is(model, expected) %}

select count(*) as n_rows
from {{ model }}
having count(*) != {{ expected | int }}

{% endtest %}
