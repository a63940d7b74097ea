{#
    What the counts marts counted, per record (issue 16): which record, on
    which day, from which load, under which classification basis. Only the
    counts marts write it, each its own rows (counted_by), in a post-hook
    inside the same transaction as its merge (counts_record_update), so it
    always describes the counts as committed. The two marts may run at the
    same time (p40): DuckDB lets concurrent transactions delete and append
    disjoint rows of one table. A daily build reads it before
    the merge to find the days the changed records left (their old
    occurred_date), which no other table holds once
    int_incidents_deduplicated has merged the new versions.
    This model itself only creates the empty table: incremental and append
    of no rows, so dbt never replaces what the counts wrote. DuckDB only:
    BigQuery's counts recount all history and leave it empty.
#}
{#- BigQuery has no append; its merge without a key only inserts. #}
{{ config(
    materialized='incremental',
    incremental_strategy='merge' if target.type == 'bigquery' else 'append',
    on_schema_change='fail',
) }}

select
    cast(null as {{ dbt.type_string() }}) as counted_by,
    record_key,
    occurred_date,
    dlt_load_id,
    cast(null as {{ dbt.type_string() }}) as counted_basis
from {{ ref('int_incidents_deduplicated') }}
where false
