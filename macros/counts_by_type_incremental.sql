{#
    Incremental build of fct_incident_counts_by_type (issue 16 P3): an
    area-week's rows depend only on its cells' counts, its week's
    is_complete_period and the active types. Suppression is decided on the
    non-zero cells (a zero cell is never suppressed), so the build compares
    the published form of every non-zero cell and remainder with the
    previous build's non-zero rows and emits (zero-filled) only the
    area-weeks that differ, new or flag-flipped weeks and every week of a
    new area. No unsuppressed count is stored: they exist only inside the
    query. A vanished area, week or type (or a type's new category) makes
    the pre-hook empty the table first (counts_by_type_reset_sql): the build
    ends as a full rebuild. A changed column needs --full-refresh; a unit
    test (no this) checks the full build. Its
    published cells are suppressed, so unlike fct_incident_counts it cannot
    compare unsuppressed counts with its previous rows; it compares what it
    would publish instead: an area-week whose published non-zero rows
    (cells and remainder) equal the previous build's is already correct.
#}

{#-
    Pre-hook: empty the table when a row the new data no longer has would
    survive the merge (a merge only updates and inserts): a vanished area
    or week (counts_vanished_rows_sql), or a change of the active
    (parent_incident_type, incident_category) pairs. A new or re-categorised
    type changes every area-week's zero-filled rows, so a rebuild costs no
    more than the merge would. The model then finds no previous rows and
    emits its whole grid. Active types come from `incidents`
    (int_incidents_classified) as in the model.
-#}
{% macro counts_by_type_reset_sql(relation, incidents, geography, calendar) -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set city = sql_string(city_level()) -%}
    {%- set query -%}
        with vanished as (
            {{ counts_vanished_rows_sql(
                relation, geography, calendar, ['weekly'],
                'first_occurred_date is not null and geo_level != ' ~ city
            ) }}
        ),

        previous_types as (
            select distinct parent_incident_type, incident_category
            from {{ relation }}
            where parent_incident_type != {{ sql_string(suppressed_remainder_label()) }}
        ),

        active_types as (
            select distinct parent_incident_type, incident_category
            from {{ incidents }}
            where occurred_date is not null
        ),

        changed_types as (
            select * from (
                select * from previous_types
                except distinct
                select * from active_types
            ) as gone
            union all
            select * from (
                select * from active_types
                except distinct
                select * from previous_types
            ) as added
        )

        select
            (select vanished from vanished)
            + (select count(*) from changed_types) as changed
    {%- endset -%}
    {{ return(reset_when_counted(
        relation, query, 'area(s), week(s) or type(s) vanished or changed'
    )) }}
{%- endmacro %}


{#-
    CTEs of the model's incremental build, ending in changed_area_weeks
    (published non-zero rows differ from the previous build's),
    touched_weeks (new weeks, flipped is_complete_period) and
    previous_areas. Reads the model's CTEs suppressed, remainders and weeks.
-#}
{% macro counts_by_type_touched_area_weeks(remainder) -%}
published_now as (

    {#- What the build would publish, non-zero rows only. #}
    select
        period_start,
        geo_level,
        geo,
        parent_incident_type,
        case when not is_suppressed then incidents end as incidents,
        is_suppressed
    from suppressed
    union all
    select
        period_start,
        geo_level,
        geo,
        '{{ remainder }}' as parent_incident_type,
        incidents,
        false as is_suppressed
    from remainders
    where incidents > 0

),

published_before as (

    select
        period_start,
        geo_level,
        geo,
        parent_incident_type,
        incidents,
        is_suppressed
    from {{ this }}
    where is_suppressed or incidents > 0

),

changed_area_weeks as (

    select distinct
        coalesce(published_now.period_start, published_before.period_start)
            as period_start,
        coalesce(published_now.geo_level, published_before.geo_level)
            as geo_level,
        coalesce(published_now.geo, published_before.geo) as geo
    from published_now
    full outer join published_before
        on
            published_now.period_start = published_before.period_start
            and published_now.geo_level = published_before.geo_level
            and published_now.geo = published_before.geo
            and published_now.parent_incident_type
            = published_before.parent_incident_type
    where
        published_now.geo is null
        or published_before.geo is null
        or published_now.is_suppressed != published_before.is_suppressed
        or coalesce(published_now.incidents, -1)
        != coalesce(published_before.incidents, -1)

),

{{ counts_by_type_previous_weeks() }}

touched_weeks as (

    {#- New weeks, and weeks whose flag the moved data window flips. #}
    {{ counts_by_type_new_or_flipped_weeks() }}

),

{{ counts_by_type_previous_areas() }}
{%- endmacro %}


{#-
    With the record (counts_record_state): touched_weeks are the weeks of
    the changed records' days plus new and flag-flipped weeks, recounted
    whole (recount_days) for every area; previous_areas as above. Reads the
    model's CTEs calendar and weeks.
-#}
{% macro counts_by_type_touched_weeks_from_changed_days(after, week_start) -%}
{{ counts_changed_days('fct_incident_counts_by_type', after) }},

{{ counts_by_type_previous_weeks() }}

touched_weeks as (

    {{ counts_by_type_new_or_flipped_weeks() }}
    union
    {#- From the day itself, as fct_incident_counts (a day the calendar lost). #}
    select {{ period_start_of('weekly', 'changed_days.date_day') }} as period_start
    from changed_days

),

recount_days as (

    select calendar.date_day
    from calendar
    inner join touched_weeks
        on calendar.{{ week_start }} = touched_weeks.period_start

),

{{ counts_by_type_previous_areas() }}
{%- endmacro %}


{#- CTE previous_weeks: the mart's weeks and their completeness flag as built. -#}
{% macro counts_by_type_previous_weeks() -%}
previous_weeks as (

    select distinct
        period_start,
        is_complete_period
    from {{ this }}

),
{%- endmacro %}


{#- New weeks, and weeks whose flag the moved data window flips (a select). -#}
{% macro counts_by_type_new_or_flipped_weeks() -%}
select weeks.period_start
    from weeks
    left join previous_weeks
        on weeks.period_start = previous_weeks.period_start
    where
        previous_weeks.period_start is null
        or previous_weeks.is_complete_period != weeks.is_complete_period
{%- endmacro %}


{#- CTE previous_areas: the mart's areas as built. -#}
{% macro counts_by_type_previous_areas() -%}
previous_areas as (

    select distinct
        geo_level,
        geo
    from {{ this }}

)
{%- endmacro %}


{#- The model's vars in its record's basis: k decides its suppression. -#}
{% macro counts_by_type_basis() -%}
    {{ return('k=' ~ var('k_anonymity_threshold', 5)) }}
{%- endmacro %}


{#-
    fct_incident_counts_by_type's side of counts_record_state's check: the
    dated incidents it counts at one level below the city (published cells
    and remainders sum to each area-week's total) and the days they cover,
    all but the last week (the calendar may end inside it).
-#}
{% macro counts_by_type_counted_sql() -%}
with last_week as (
    select max(period_start) as period_start from {{ this }}
)
select
    sum(coalesce(incidents, 0)) as incidents,
    min(counts.period_start) as first_day,
    cast(max(counts.period_start) + interval 6 day as date) as last_day
from {{ this }} as counts, last_week
where
    counts.period_start < last_week.period_start
    and counts.geo_level = (
        select min(geo_level) from {{ this }}
    )
{%- endmacro %}


{#- The model's weeks (the calendar's) and their is_complete_period. -#}
{% macro counts_by_type_weeks(freq, week_start) -%}
select
    week_starts.period_start,
    {# Same rule as fct_incident_counts (int_data_window). #}
    (
        cast(week_starts.period_start as date)
        >= data_window.first_loaded_date
        and cast(
            {{ period_end(freq, 'week_starts.period_start') }} as date
        ) <= data_window.complete_until_date
    ) as is_complete_period
from (
    select distinct {{ week_start }} as period_start from calendar
) as week_starts
cross join data_window
{%- endmacro %}
