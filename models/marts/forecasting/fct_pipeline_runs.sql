{#
    Every command that wrote the warehouse, from the run ledger: one row per
    run. A view, not a table: the ledger changes outside write-audit-publish
    (a run is `running` while it builds this model, and a failed run never
    publishes), so only a view shows each run's final status. When the ledger
    is not in this warehouse (on BigQuery it stays in the runner's DuckDB
    file; a warehouse no command has written yet has none), the view is empty
    with the same columns; the next build after it appears picks it up.
#}
{{ config(materialized='view') }}
{%- set timestamptz = (
    'timestamp' if target.type == 'bigquery' else 'timestamp with time zone'
) -%}
{%- set columns = [
    ('run_id', dbt.type_string()),
    ('command', dbt.type_string()),
    ('as_of', 'date'),
    ('target', dbt.type_string()),
    ('status', dbt.type_string()),
    ('started_at', timestamptz),
    ('ended_at', timestamptz),
    ('rows_fetched', dbt.type_bigint()),
    ('rows_loaded', dbt.type_bigint()),
    ('rows_rejected', dbt.type_bigint()),
    ('tests_passed', dbt.type_bigint()),
    ('tests_failed', dbt.type_bigint()),
    ('error', dbt.type_string()),
] -%}
{%- set ledger = source('ops', 'run_ledger') -%}
{%- if target.type == 'duckdb' -%}
    {#- DuckDB names its catalog after the file: a view naming it would break
        when the warehouse file is copied or renamed. -#}
{%- set ledger = ledger.include(database=false) -%}
{%- endif -%}

with

ledger as (

    {% if source_relation('ops', 'run_ledger') is not none %}
    select * from {{ ledger }}
    {% else %}
    -- noqa: disable=LT02
    select
        {% for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {% endfor %}
    from (select 1 as one) as no_ledger
    where no_ledger.one = 0
    -- noqa: enable=LT02
    {% endif %}

)

select
    {% for name, type in columns %}
    cast({{ name }} as {{ type }}) as {{ name }},
    {% endfor %}
    cast(
        {{ dbt.datediff('started_at', 'ended_at', 'second') }}
        as {{ dbt.type_bigint() }}
    ) as duration_seconds
from ledger
