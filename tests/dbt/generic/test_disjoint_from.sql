{#-
    Fails on values of column_name that also occur in field of model `to`:
    e.g. a published pseudonym equal to a raw case number (issue 8).
    The model is read in a CTE: with a `where` config dbt passes it as an
    aliased subquery, which cannot take a second alias.
-#}
{% test disjoint_from(model, column_name, to, field) %}

with published as (

    select {{ column_name }} from {{ model }}

)

select published.{{ column_name }}
from published
inner join {{ to }} as restricted
    on cast(published.{{ column_name }} as {{ dbt.type_string() }})
    = cast(restricted.{{ field }} as {{ dbt.type_string() }})

{% endtest %}
