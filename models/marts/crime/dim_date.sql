{#
    Calendar from the first incident date to the data cutoff
    (int_data_window), so the counts marts zero-fill every day up to the
    cutoff: a quiet last day is a zero, not a missing row.
#}
{%- set window = ref('int_data_window') -%}
{#-
    dbt.date_spine counts the days with a query at compile time. A compile
    without a build (dbt compile, docs generate on schemas not built yet)
    gets an empty calendar instead of an error; a build always has the window.
-#}
{%- set no_window = "cast('2000-01-01' as date)" -%}
{%- set window_built = relation_exists(window) -%}
{%- set start_date = '(select first_occurred_date from ' ~ window ~ ')'
    if window_built else no_window -%}
{%- set end_date = '(select '
    ~ dbt.dateadd('day', 1, 'data_cutoff_date') ~ ' from ' ~ window ~ ')'
    if window_built else no_window %}

with

spine as (

    {{ dbt.date_spine(
        datepart='day',
        start_date=start_date,
        end_date=end_date,
    ) }}

),

final as (

    select
        ---------- dates
        cast(date_day as date) as date_day,
        {{ week_start('cast(date_day as date)') }} as week_start_date,
        {{ month_start('cast(date_day as date)') }} as month_start_date,

        ---------- numerics
        cast(extract(year from date_day) as {{ dbt.type_bigint() }})
            as year_number,
        cast(extract(month from date_day) as {{ dbt.type_bigint() }})
            as month_number,
        cast(extract(day from date_day) as {{ dbt.type_bigint() }})
            as day_of_month,
        cast(
            {{ iso_day_of_week('cast(date_day as date)') }}
            as {{ dbt.type_bigint() }}
        ) as day_of_week,

        ---------- booleans
        {{ iso_day_of_week('cast(date_day as date)') }} in (6, 7) as is_weekend

    from spine

)

select * from final
