{#
    Calendar covering exactly the first to the last day with incidents, so the
    counts marts can zero-fill against it.
#}
{%- set bounds_source = ref('fct_incidents') -%}

with

spine as (

    {{ dbt.date_spine(
        datepart='day',
        start_date='(select min(occurred_date) from ' ~ bounds_source ~ ')',
        end_date='(select '
            ~ dbt.dateadd('day', 1, 'max(occurred_date)')
            ~ ' from ' ~ bounds_source ~ ')',
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
