{#
    SCD2 history of every incident as the portal revised it: dlt's merge keeps
    only the latest version in raw, this keeps them all. Restricted (schema
    snapshots): it holds record keys and exact locations.

    A new version only when the business content changes (issue 13.4):
    Socrata moves every row's :updated_at when a publisher replaces a
    dataset, so versioning on it doubled the history on an identical
    republish. The check strategy compares content_hash, a hash of every
    tracked column (all but load and system metadata); revision_updated_at
    only dates the version. Once the snapshot exists only rows inside the
    lookback window are compared (a revision always moves :updated_at
    forward), and hard deletes are ignored.
#}
{% snapshot snap_incidents %}

{{ config(
    schema='snapshots',
    unique_key='record_key',
    strategy='check',
    check_cols=['content_hash'],
    updated_at='revision_updated_at',
    hard_deletes='ignore',
) }}

{%- set tracked = columns_except(
    ref('int_incidents_classified'),
    ['record_key', 'dlt_load_id', 'source_created_at', 'source_updated_at']
) -%}
{%- set snapshot_exists = relation_has_column(this, 'record_key') -%}
{%- set hashed_before = relation_has_column(this, 'content_hash') %}

{#-
    The window start (none on the first build). Only rows that can end up
    inside it are hashed and joined: a version's revision_updated_at is
    either its source_revision_at or one second after the current version's
    dbt_valid_from, so a row outside both bounds is dropped by `final`
    anyway. Without this, every run hashed every incident. Rows of a load
    newer than any in the snapshot pass both filters, however old their
    :updated_at (see incremental_where's load_column).
-#}
{%- set start = incremental_lookback_start('dbt_updated_at') %}
{%- set after = loaded_after('dlt_load_id') if start is not none else none %}
{%- if after is none %}{% set start = none %}{% endif %}
{#-
    `final`'s filter, on the versions it adds (dbt_updated_at is their
    revision_updated_at), kept for the uniqueness tests (__built_keys__).
-#}
{%- if start is not none %}
    {%- do built_window_keep(this, [
        'dbt_updated_at >= ' ~ start, 'dlt_load_id > ' ~ after]) %}
{%- endif %}

{#- The current versions dated in the window (re-dated ones, p26). -#}
{%- if start is not none %}
{%- set redated_in_window -%}
    select current_version.record_key
    from {{ this }} as current_version
    where
        current_version.dbt_valid_to is null
        and current_version.dbt_valid_from
        >= cast({{ dbt.dateadd('second', -1, start) }}
            as {{ dbt.type_timestamp() }})
{%- endset %}
{%- endif %}

with

{% if start is not none and snapshot_exists and target.type == 'duckdb' -%}
{#-
    DuckDB does not push the window's `or` through the classified view:
    every stored incident was read and classified (z41, issue 16: 2.6 s of
    scan and 0.9 s of joins at 10M). Its first two disjuncts as disjoint
    branches, each pushed into the scan of int_incidents_deduplicated
    (a null coalesce fails `>= start`, so the last branch takes it with
    the new loads).
-#}
windowed as (
    {%- for branch in [
        'source_updated_at >= ' ~ start,
        'source_updated_at is null and source_created_at >= ' ~ start,
        'source_updated_at is null and source_created_at is null'
            ~ ' and occurred_at >= ' ~ start,
        'dlt_load_id > ' ~ after ~ ' and coalesce(coalesce(source_updated_at,'
            ~ ' source_created_at, occurred_at) < ' ~ start ~ ', true)',
    ] %}
    select * from {{ ref('int_incidents_classified') }}
    where {{ branch }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

{#
    The third disjunct, less the keys already windowed: current versions
    dated in the window whose record is not (re-dated ones, p26). The
    view's record keys are unique (int_incidents_deduplicated keeps one
    row per key, never null), so a key is windowed with all its rows or
    none. Usually empty: then the join below stops before it reads the
    view; otherwise it reads every incident, as the `or` did.
-#}
redated as (

    {{ redated_in_window }}
        and not exists (
            select 1 from windowed
            where windowed.record_key = current_version.record_key
        )

),

incidents as (

    select * from windowed
    union all
    select * from {{ ref('int_incidents_classified') }}
    where record_key in ({{ snapshot_key_list('redated') }})

),
{%- else %}

incidents as (

    select * from {{ ref('int_incidents_classified') }}
    {%- if start is not none and snapshot_exists %}
    where
        coalesce(source_updated_at, source_created_at, occurred_at)
        >= {{ start }}
        or dlt_load_id > {{ after }}
        or record_key in (
            {{ redated_in_window }}
        )
    {%- endif %}

),
{%- endif %}

versioned as (

    select
        *,
        {{ content_hash(tracked) }} as content_hash,
        coalesce(source_updated_at, source_created_at, occurred_at)
            as source_revision_at
    from incidents

),

current_versions as (

    {%- if snapshot_exists %}
    {#-
        A snapshot from before content hashing: every row counts as changed.
        Only the windowed records' versions: `dated` left-joins them to
        `versioned`, so the others cannot match, and a daily build then
        joins a day's records, not a hash table of every incident.
    #}
    select
        record_key,
        {{ 'content_hash' if hashed_before
            else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as content_hash,
        dbt_valid_from
    from {{ this }}
    where
        dbt_valid_to is null
        {%- if start is not none %}
        and record_key in ({{ snapshot_key_list('incidents') }})
        {%- endif %}
    {%- else %}
    select
        record_key,
        content_hash,
        source_revision_at as dbt_valid_from
    from versioned
    where 1 = 0
    {%- endif %}

),

dated as (

    {#-
        Content can change without :updated_at moving (a profile edit
        re-maps a type): date that version a second after the current one,
        so versions of a record never share a dbt_valid_from.
    #}
    select
        versioned.*,
        case
            when
                current_versions.record_key is not null
                and coalesce(
                    current_versions.content_hash
                    != versioned.content_hash,
                    true
                )
                and versioned.source_revision_at
                <= current_versions.dbt_valid_from
                then cast({{ dbt.dateadd(
                    'second', 1, 'current_versions.dbt_valid_from'
                ) }} as {{ dbt.type_timestamp() }})
            else versioned.source_revision_at
        end as revision_updated_at
    from versioned
    left join current_versions
        on versioned.record_key = current_versions.record_key

),

final as (

    select * from dated
    where {{ 'true' if start is none
        else 'revision_updated_at >= ' ~ start ~ ' or dlt_load_id > ' ~ after }}

)

select * from final

{% endsnapshot %}
