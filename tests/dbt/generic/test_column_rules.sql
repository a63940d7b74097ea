{#-
    Several row rules of one model in one test (issue 16 P3: dbt's cost per
    test node is fixed, so a model's not_null and expression_is_true tests
    cost one node instead of one each). not_null: columns that must not be
    null; expressions: {label: boolean SQL true on every row} (null passes,
    as in expression_is_true); row_count: the exact number of rows, when
    given. One filtered count per rule: a filter lets DuckDB skip row groups
    by their statistics (a not_null on a column without nulls reads
    nothing); one_pass: true sums every rule in one read instead, for a
    small relation (int_data_window, one row). Fails with one row per
    broken rule, naming it: column_name (the column, or the expression's label), rule and
    failing_rows (rows that break it; for row_count, the rows found).
-#}
{% test column_rules(
    model, not_null=[], expressions={}, row_count=none, one_pass=false
) %}

{%- set rules = [] -%}
{%- for column in not_null -%}
    {%- do rules.append({
        'column': column, 'rule': 'not_null', 'fails': column ~ ' is null'
    }) -%}
{%- endfor -%}
{%- for label, expression in expressions.items() -%}
    {%- do rules.append({
        'column': label,
        'rule': 'expression_is_true: ' ~ (expression.split() | join(' ')),
        'fails': 'not (' ~ expression ~ ')'
    }) -%}
{%- endfor -%}
{%- if not rules and row_count is none -%}
    {{ exceptions.raise_compiler_error(
        'column_rules needs not_null, expressions or row_count') }}
{%- endif -%}

{%- if one_pass %}
with

checked as (

    select
        count(*) as n_rows
        {%- for rule in rules %},
        sum(case when {{ rule['fails'] }} then 1 else 0 end) as failed_{{ loop.index }}
        {%- endfor %}
    from {{ model }}

)

{%- for rule in rules %}
select
    {{ sql_string(rule['column']) }} as column_name,
    {{ sql_string(rule['rule']) }} as rule,
    failed_{{ loop.index }} as failing_rows
from checked
where failed_{{ loop.index }} > 0
union all
{%- endfor %}
select
    '*' as column_name,
    {{ sql_string('row_count = ' ~ (row_count | int)) }} as rule,
    n_rows as failing_rows
from checked
where {{ 'false' if row_count is none else 'n_rows != ' ~ (row_count | int) }}
{%- else -%}

{%- for rule in rules %}
select
    {{ sql_string(rule['column']) }} as column_name,
    {{ sql_string(rule['rule']) }} as rule,
    count(*) as failing_rows
from {{ model }}
where {{ rule['fails'] }}
having count(*) > 0
{%- if not loop.last or row_count is not none %}
union all
{%- endif %}
{%- endfor %}
{%- if row_count is not none %}
select
    '*' as column_name,
    {{ sql_string('row_count = ' ~ (row_count | int)) }} as rule,
    count(*) as failing_rows
from {{ model }}
having count(*) != {{ row_count | int }}
{%- endif %}
{%- endif %}

{% endtest %}
