{#-
    Conservation: for each partition of a counts mart (e.g. freq x geo_level)
    the counts add up to the number of incidents in incidents_model. Fails
    with one row per partition that gains or loses incidents, or one row when
    the counts mart is empty while incidents exist.
-#}
{% test counts_conserve_incidents(
    model,
    incidents_model,
    count_column='incidents',
    partition_by=['freq', 'geo_level'],
    incidents_where='1 = 1'
) %}

with

counted as (

    select
        {{ partition_by | join(', ') }},
        sum({{ count_column }}) as counted_incidents
    from {{ model }}
    group by {{ partition_by | join(', ') }}

),

expected as (

    select count(*) as expected_incidents
    from {{ incidents_model }}
    where {{ incidents_where }}

),

mismatches as (

    select
        {{ dbt.concat(partition_by) }} as partition_key,
        counted.counted_incidents,
        expected.expected_incidents
    from counted
    cross join expected
    where counted.counted_incidents != expected.expected_incidents

),

missing as (

    select
        'no counts at all' as partition_key,
        0 as counted_incidents,
        expected.expected_incidents
    from expected
    where
        expected.expected_incidents > 0
        and not exists (select 1 from counted)

)

select * from mismatches
union all
select * from missing

{% endtest %}
