{#-
    Zero-fill: within each partition (e.g. freq x geo_level) every area has
    every period, i.e. rows = distinct periods x distinct areas. Fails with
    one row per partition that has holes.
-#}
{% test zero_filled_grid(
    model, partition_by, period_column='period_start', area_column='geo'
) %}

select
    {{ partition_by | join(', ') }},
    count(*) as n_rows,
    count(distinct {{ period_column }}) as n_periods,
    count(distinct {{ area_column }}) as n_areas
from {{ model }}
group by {{ partition_by | join(', ') }}
having
    count(*)
    != count(distinct {{ period_column }}) * count(distinct {{ area_column }})

{% endtest %}
