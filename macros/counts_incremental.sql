{#
    Incremental counts marts (issue 16 P3): a daily build re-emits only the
    periods the day touched and merges them into the existing rows. A merge
    only updates and inserts, so a row the new data no longer has (an area
    that lost its last incident, a period the calendar no longer covers)
    would survive it. counts_reset_sql is the model's pre-hook: in that
    case it empties the table, the model then finds no previous rows and
    emits its whole grid, and the build ends as a full rebuild would.
#}
{% macro counts_reset_sql(relation, areas, calendar, freqs, areas_where) -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set query -%}
        {{ counts_vanished_rows_sql(relation, areas, calendar, freqs, areas_where) }}
    {%- endset -%}
    {{ return(reset_when_counted(
        relation, query, 'area(s) or period(s) vanished'
    )) }}
{%- endmacro %}


{#-
    The counts marts' pre-hooks end alike: `query` counts what the previous
    rows hold that the new data no longer has; 0 keeps the table (''),
    anything else logs the count and `what`, and empties the table. The
    answer is cached for the invocation: the model asks it at compile time
    (counts_recounted_rows), before its pre-hook runs, and nothing else
    writes the relation in between.
-#}
{% macro reset_when_counted(relation, query, what) -%}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'reset_when_counted ' ~ relation ~ ' ' ~ local_md5(query) -%}
    {%- if key in cache -%}
        {{ return(cache[key]) }}
    {%- endif -%}
    {%- set counted = run_query(query).columns[0].values()[0] -%}
    {%- set sql = '' -%}
    {%- if counted | int != 0 -%}
        {%- do log(
            relation ~ ': ' ~ counted ~ ' ' ~ what ~ '; rebuilding it whole',
            info=true
        ) -%}
        {%- set sql = 'delete from ' ~ relation ~ ' where true' -%}
    {%- endif -%}
    {%- do cache.update({key: sql}) -%}
    {{ return(sql) }}
{%- endmacro %}


{#-
    SQL counting the areas and periods of `relation` that the new data no
    longer has: areas of no row of `areas` matching `areas_where`, periods
    whose start no day of `calendar` has for their freq.
-#}
{% macro counts_vanished_rows_sql(relation, areas, calendar, freqs, areas_where) -%}
select
    (
        select count(*)
        from (
            select distinct geo_level, geo from {{ relation }}
        ) as previous_areas
        left join (
            select distinct geo_level, geo from {{ areas }}
            where {{ areas_where }}
        ) as active_areas
            on
                previous_areas.geo_level = active_areas.geo_level
                and previous_areas.geo = active_areas.geo
        where active_areas.geo is null
    )
    + (
        select count(*)
        from (
            select distinct freq, period_start from {{ relation }}
        ) as previous_periods
        left join (
            {%- for freq in freqs %}
            select distinct
                {{ sql_string(freq) }} as freq,
                {{ period_start_column(freq) }} as period_start
            from {{ calendar }}
            {%- if not loop.last %}
            union all
            {%- endif %}
            {%- endfor %}
        ) as periods
            on
                previous_periods.freq = periods.freq
                and previous_periods.period_start = periods.period_start
        where periods.freq is null
    ) as vanished
{%- endmacro %}


{#-
    CTEs of fct_incident_counts' incremental build, ending in
    touched_periods: the periods (with is_complete_period) holding a day
    whose count in some area differs from the previous build's daily rows,
    new periods, and periods whose flag the moved data window flips. Reads
    the model's CTEs daily_counts, calendar, calendar_periods and periods;
    previous_areas is the previous build's areas. With from_changed_days
    the caller's changed_days (counts_changed_days) replaces the comparison
    of every daily count.
-#}
{% macro counts_touched_periods(from_changed_days=false) -%}
{%- if not from_changed_days %}
current_daily as (

    {#- The days the previous build's daily rows cover: the calendar. #}
    select daily_counts.*
    from daily_counts
    inner join calendar on daily_counts.occurred_date = calendar.date_day

),

previous_daily as (

    select
        period_start as occurred_date,
        geo_level,
        geo,
        incidents
    from {{ this }}
    where freq = 'daily' and incidents > 0

),

changed_days as (

    select distinct
        coalesce(
            current_daily.occurred_date, previous_daily.occurred_date
        ) as date_day
    from current_daily
    full outer join previous_daily
        on
            current_daily.occurred_date = previous_daily.occurred_date
            and current_daily.geo_level = previous_daily.geo_level
            and current_daily.geo = previous_daily.geo
    where
        current_daily.incidents is null
        or previous_daily.incidents is null
        or current_daily.incidents != previous_daily.incidents

),
{%- endif %}

changed_periods as (

    {%- if from_changed_days %}
    {#- From the day itself: a day the calendar lost (a record moved off
        the first day) still changes its week and month. #}
    {%- for freq in frequencies() %}
    select distinct
        {{ sql_string(freq) }} as freq,
        {{ period_start_of(freq, 'changed_days.date_day') }} as period_start
    from changed_days
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- else %}
    select distinct
        calendar_periods.freq,
        calendar_periods.period_start
    from calendar_periods
    inner join changed_days
        on calendar_periods.date_day = changed_days.date_day
    {%- endif %}

),

previous_periods as (

    select distinct
        freq,
        period_start,
        is_complete_period
    from {{ this }}

),

previous_areas as (

    select distinct
        geo_level,
        geo
    from {{ this }}

),

touched_periods as (

    {#- Changed days, new periods, and flags the moved window flips. #}
    select distinct periods.*
    from periods
    left join changed_periods
        on
            periods.freq = changed_periods.freq
            and periods.period_start = changed_periods.period_start
    left join previous_periods
        on
            periods.freq = previous_periods.freq
            and periods.period_start = previous_periods.period_start
    where
        changed_periods.freq is not null
        or previous_periods.freq is null
        or previous_periods.is_complete_period != periods.is_complete_period

)
{%- endmacro %}


{#-
    fct_incident_counts' side of counts_record_state's check: the dated
    incidents it counts (the city's daily rows) and the days they cover.
-#}
{% macro counts_counted_sql() -%}
select
    sum(incidents) as incidents,
    min(period_start) as first_day,
    max(period_start) as last_day
from {{ this }}
where freq = 'daily' and geo_level = {{ sql_string(city_level()) }}
{%- endmacro %}
