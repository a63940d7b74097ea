{#-
    Fails on values of column_name that also occur in field of model `to`:
    e.g. a published pseudonym equal to a raw case number (issue 8).
-#}
{% test disjoint_from(model, column_name, to, field) %}

select published.{{ column_name }}
from {{ model }} as published
inner join {{ to }} as restricted
    on cast(published.{{ column_name }} as {{ dbt.type_string() }})
    = cast(restricted.{{ field }} as {{ dbt.type_string() }})

{% endtest %}
