{#
    Every period's is_complete_period in fct_incident_counts is the one
    today's data window (int_data_window) gives it. The mart is built
    incrementally by period: a period whose flag the moved window flips but
    that no build re-emitted would keep yesterday's flag. Reads the ~4k
    distinct periods, not every row twice. Fails with one row per period
    and flag that disagree.
#}
with

periods as (

    select distinct
        freq,
        period_start,
        is_complete_period
    from {{ ref('fct_incident_counts') }}

),

data_window as (

    select * from {{ ref('int_data_window') }}

),

expected as (

    {%- for freq in frequencies() %}
    select
        periods.freq,
        periods.period_start,
        periods.is_complete_period,
        (
            periods.period_start >= data_window.first_loaded_date
            and cast({{ period_end(freq, 'periods.period_start') }} as date)
            <= data_window.complete_until_date
        ) as expected_complete
    from periods
    cross join data_window
    where periods.freq = {{ sql_string(freq) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select *
from expected
where is_complete_period != expected_complete
