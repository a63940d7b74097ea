{#-
    Fails on values of column_name that also occur in field of model `to`:
    e.g. a published pseudonym equal to a raw case number (issue 8).
    The model is read in a CTE: with a `where` config dbt passes it as an
    aliased subquery, which cannot take a second alias.
    On DuckDB only values of `to` as long as some published value can be
    equal to one (a40, issue 16): the join then hashes those (none, for
    64-character pseudonyms against case numbers and record keys) instead
    of a whole side, and still checks every row. BigQuery, which bills the
    bytes read, reads each column once as before.
-#}
{% test disjoint_from(model, column_name, to, field) %}

{%- set restricted_value = 'cast(' ~ field ~ ' as ' ~ dbt.type_string() ~ ')' %}

with published as (

    select cast({{ column_name }} as {{ dbt.type_string() }}) as value
    from {{ model }}

),

restricted as (

    select {{ restricted_value }} as value
    from {{ to }}
    {%- if target.type == 'duckdb' %}
    where {{ dbt.length(restricted_value) }} in (
        select distinct {{ dbt.length(
            'cast(' ~ column_name ~ ' as ' ~ dbt.type_string() ~ ')') }}
        from {{ model }}
    )
    {%- endif %}

)

select published.value as {{ column_name }}
from published
inner join restricted
    on published.value = restricted.value

{% endtest %}
