{#
    The model registry as readers need it: one row per forecast run, freq,
    geo_level and horizon bucket, with the method that served that cell of the
    run's forecast and the run's registry status. ml/ records the serving
    methods as JSON in ml.model_runs.metrics ({freq: {serving: {level:
    {bucket: method}}}}); it is unpacked here so that nobody downstream parses
    it. A run that served no cell (nothing forecast, or a registry row older
    than per-bucket serving) keeps one row with the cell columns null.
#}
{%- set freqs = frequencies() -%}
{#- ml/config.py HORIZON_BUCKETS, nearest first (tests/python/dashboard checks
    that every cell the registry serves is unpacked). -#}
{%- set horizon_buckets = ['1-7d', '2-4w', '1-3m', '3-12m'] -%}
{%- set levels = [] -%}
{%- for geography in geo_levels() -%}
{%- do levels.append(geography.level) -%}
{%- endfor -%}
{#- JSON paths are literals (BigQuery); keys are quoted ("1-7d"). -#}
{%- set cells = [] -%}
{%- for freq in freqs -%}
{%- for level in levels -%}
{%- for bucket in horizon_buckets -%}
{%- do cells.append((freq, level, loop.index, bucket)) -%}
{%- endfor -%}
{%- endfor -%}
{%- endfor -%}

with

runs as (

    select * from {{ source('ml', 'model_runs') }}

),

serving as (

    {% for freq, level, bucket_order, bucket in cells %}
    select
        run_id,
        '{{ freq }}' as freq,
        '{{ level }}' as geo_level,
        '{{ bucket }}' as horizon_bucket,
        {{ bucket_order }} as horizon_bucket_order,
        {{ json_text(
            'metrics', '$.' ~ freq ~ '.serving.' ~ level ~ '."' ~ bucket ~ '"'
        ) }} as serving_method
    from runs
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

served as (

    select * from serving
    where serving_method is not null

)

select
    runs.run_id as forecast_run_id,
    runs.model_version,
    runs.status,
    runs.status = 'champion' as is_champion,
    runs.trained_at,
    runs.data_cutoff,
    runs.score,
    runs.status_reason,
    runs.promoted_at,
    runs.updated_at,
    served.freq,
    served.geo_level,
    served.horizon_bucket,
    cast(served.horizon_bucket_order as {{ dbt.type_bigint() }})
        as horizon_bucket_order,
    served.serving_method
from runs
left join served on runs.run_id = served.run_id
