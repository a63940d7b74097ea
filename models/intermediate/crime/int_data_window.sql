{#
    One row: the dates that decide which periods are complete (issue 12.11).
    A period is complete when it lies wholly within
    [first_loaded_date, complete_until_date]:
    - first_loaded_date: greatest(var data_start, first incident date);
      periods starting earlier hold only part of their days.
    - last_data_date: the last day the source shows any record (latest report
      or incident date). Capping the cutoff with it keeps a source that stops
      publishing (e.g. a month behind) from turning its silent days into
      complete zeros.
    - complete_until_date: least(data_cutoff, last_data_date) minus
      var reporting_lag_days, the allowance for reports that trail their
      incident.
    A one-row table, not a view (issue 16 P3): dim_date (at compile time
    and in its spine), both counts marts and their tests read it, and each
    read of a view scanned every incident again. It reads the deduplicated
    table, not the classified view over it: the view only left-joins type
    maps (no row dropped, and min/max ignore a duplicated one), and its
    joins were most of this model's time (issue 16 P2).
#}
{{ config(materialized='table') }}
{%- set lag_days = reporting_lag_days() -%}

with

incidents as (

    select
        occurred_date,
        reported_at_local
    from {{ ref('int_incidents_deduplicated') }}
    where occurred_date is not null

),

observed as (

    select
        min(occurred_date) as first_occurred_date,
        max(occurred_date) as last_occurred_date,
        max(cast(reported_at_local as date)) as last_reported_date
    from incidents

),

bounded as (

    select
        first_occurred_date,
        greatest(
            last_occurred_date,
            coalesce(last_reported_date, last_occurred_date)
        ) as last_data_date,
        {{ date_var_or('data_start', 'first_occurred_date') }}
            as data_start_date
    from observed

),

cut as (

    select
        first_occurred_date,
        last_data_date,
        greatest(data_start_date, first_occurred_date) as first_loaded_date,
        {{ date_var_or('data_cutoff', 'last_data_date') }} as data_cutoff_date
    from bounded

),

final as (

    select
        ---------- dates
        first_occurred_date,
        first_loaded_date,
        last_data_date,
        data_cutoff_date,
        cast(
            {{ dbt.dateadd(
                'day', -lag_days, 'least(data_cutoff_date, last_data_date)'
            ) }} as date
        ) as complete_until_date,

        ---------- numerics
        cast({{ lag_days }} as {{ dbt.type_bigint() }}) as reporting_lag_days

    from cut

)

select * from final
