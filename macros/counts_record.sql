{#
    The counts marts' per-record record (int_incidents_counted, issue 16).
    A daily DuckDB build of a counts mart recounts only the days its changed
    records touch: their new day (records of loads newer than the newest
    the mart's record holds, the rule of int_incidents_deduplicated) and
    their old day (the record). Sound only while the record describes the
    mart as committed and nothing but new loads changed, so
    counts_record_state checks that first and otherwise sends the build
    down the recount of all history, with one log line saying why.
#}

{#-
    Digest of what classifies a record besides its own row: the source
    profile, the type maps, the official areas, the code of the models
    between raw and the counts, and `extra` (the mart's own vars). A
    different digest means a full recount. Macro edits are not covered
    (as for int_incidents_deduplicated: they need --full-refresh).
-#}
{% macro counts_record_basis(extra='') -%}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'counts_record_basis ' ~ extra -%}
    {%- if key in cache -%}
        {{ return(cache[key]) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- set map_columns = {
        'source_incident_types': ['incident_type', 'parent_incident_type'],
        'source_parent_incident_types': [
            'parent_incident_type', 'incident_category', 'is_sensitive',
        ],
        'source_geographies': ['geo_level', 'geo'],
    } -%}
    {#- The map's own columns, not dlt's: every ingest lands the maps again. -#}
    {%- for name, columns in map_columns.items() -%}
        {#- Raw (no ref: read at run time only); staging's code is in the basis. -#}
        {%- set relation = source_relation('socrata', name) -%}
        {%- if relation is none -%}
            {%- do parts.append(name ~ ' missing') -%}
        {%- else -%}
            {%- set digest -%}
                with rows as (
                    select concat_ws('|'
                        {%- for column in columns -%}
                        , coalesce(cast({{ column }} as varchar), '<null>')
                        {%- endfor -%}
                    ) as row_text
                    from {{ relation }}
                )
                select coalesce(string_agg(row_text, ',' order by row_text), '') from rows
            {%- endset -%}
            {%- do parts.append(run_query(digest).columns[0].values()[0]) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- The profile but where it is fetched from (the URL changes with the host). -#}
    {%- set profile = {} -%}
    {%- for name, value in source_profile().items() if name not in ['url', 'title'] -%}
        {%- do profile.update({name: value}) -%}
    {%- endfor -%}
    {%- do parts.append(tojson(profile, sort_keys=true)) -%}
    {%- for name in [
        'stg_socrata__incidents', 'stg_socrata__incident_types',
        'stg_socrata__parent_incident_types', 'int_incidents_deduplicated',
        'int_incidents_classified', 'int_incident_areas', 'dim_date',
        this.identifier,
    ] -%}
        {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ name) -%}
        {%- do parts.append(node.checksum.checksum if node else 'none') -%}
    {%- endfor -%}
    {%- do parts.append(extra) -%}
    {%- set digest = local_md5(parts | join('\n')) -%}
    {%- do cache.update({key: digest}) -%}
    {{ return(digest) }}
{%- endmacro %}


{#-
    The newest load id (a checked literal) the record holds for
    `counted_by` when a build may recount only the changed records' days,
    else none (after logging why). `counted_sql` selects, from the mart,
    (dated incidents counted, first day, last day they cover): the record's
    dated rows in that range must number the same. Cached for the mart's
    post-hook, which must write what this build assumed.
-#}
{% macro counts_record_state(counted_by, counted_sql, extra='') -%}
    {%- if not execute or this is none or target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'counts_record_state ' ~ this -%}
    {%- if key in cache -%}
        {{ return(cache[key]) }}
    {%- endif -%}
    {%- set after = none -%}
    {%- set record = ref('int_incidents_counted') -%}
    {%- set why = none -%}
    {%- if not is_incremental() -%}
        {%- set why = '' -%}
    {%- elif not relation_exists(record) -%}
        {%- set why = 'its record ' ~ record ~ ' is missing' -%}
    {%- else -%}
        {%- set mine = "counted_by = " ~ sql_string(counted_by) -%}
        {%- set query -%}
            with counted as ({{ counted_sql }})
            select
                (select max(dlt_load_id) from {{ record }} where {{ mine }}),
                (
                    select count(*) from {{ record }} where {{ mine }}
                    and counted_basis is distinct from
                    {{ sql_string(counts_record_basis(extra)) }}
                ),
                (select coalesce(sum(incidents), 0) from counted),
                (
                    select count(*) from {{ record }}, counted
                    where {{ mine }}
                    and occurred_date between counted.first_day and counted.last_day
                )
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- if row[0] is none -%}
            {%- set why = 'its record holds no rows' -%}
        {%- elif row[1] | int > 0 -%}
            {%- set why = 'the profile, a type map or the model code changed' -%}
        {%- elif row[2] | int != row[3] | int -%}
            {%- set why = 'its record lists ' ~ row[3] ~ ' dated incidents, the table counts '
                ~ row[2] -%}
        {%- elif not modules.re.fullmatch('[0-9]{10}([.][0-9]+)?', row[0] | string) -%}
            {{ exceptions.raise_compiler_error(
                'newest dlt_load_id in ' ~ record ~ ' is not a dlt load id: '
                ~ (row[0] | string)[:40] ~ '; rebuild with --full-refresh') }}
        {%- else -%}
            {%- set after = "'" ~ row[0] ~ "'" -%}
        {%- endif -%}
    {%- endif -%}
    {%- if why -%}
        {%- do log(this ~ ': ' ~ why ~ '; recounting all history', info=true) -%}
    {%- endif -%}
    {%- do cache.update({key: after}) -%}
    {{ return(after) }}
{%- endmacro %}


{#- The changed records' filter: loads newer than `after` (and rows without a load). -#}
{% macro counts_changed_where(after) -%}
    {{ return('(dlt_load_id > ' ~ after ~ ' or dlt_load_id is null)') }}
{%- endmacro %}


{#-
    CTEs changed_records and changed_days (date_day): every day a changed
    record is counted on now or was counted on by the last build.
-#}
{% macro counts_changed_days(counted_by, after) -%}
changed_records as (

    select
        record_key,
        occurred_date
    from {{ ref('int_incidents_classified') }}
    where {{ counts_changed_where(after) }}

),

changed_days as (

    select occurred_date as date_day
    from changed_records
    where occurred_date is not null
    union
    select occurred_date as date_day
    from {{ ref('int_incidents_counted') }}
    where
        counted_by = {{ sql_string(counted_by) }}
        and occurred_date is not null
        and record_key in (select record_key from changed_records)

)
{%- endmacro %}


{#-
    The mart's post-hooks (inside its transaction, before the commit):
    `step` 'delete' then 'insert' rewrite its record rows of the changed
    records, or all of them when this build recounted all history.
-#}
{% macro counts_record_update(counted_by, step, extra='') -%}
    {%- if not execute or this is none or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set after = invocation_cache().get('counts_record_state ' ~ this) -%}
    {%- set changed = counts_changed_where(after) if after is not none else 'true' -%}
    {%- set record = ref('int_incidents_counted') -%}
    {%- set incidents = ref('int_incidents_classified') -%}
    {%- if step == 'delete' -%}
        {{ return(
            'delete from ' ~ record ~ ' where counted_by = ' ~ sql_string(counted_by)
            ~ (' and record_key in (select record_key from ' ~ incidents ~ ' where '
                ~ changed ~ ')' if after is not none else '')
        ) }}
    {%- endif -%}
    {{ return(
        'insert into ' ~ record ~ ' select ' ~ sql_string(counted_by)
        ~ ', record_key, occurred_date, dlt_load_id, '
        ~ sql_string(counts_record_basis(extra)) ~ ' from ' ~ incidents
        ~ ' where ' ~ changed
    ) }}
{%- endmacro %}


{#- The mart's post-hooks (counts_record_update); `extra` is SQL-free Jinja (its vars). -#}
{% macro counts_record_hooks(counted_by, extra="''") -%}
    {{ return([
        "{{ counts_record_update('" ~ counted_by ~ "', 'delete', " ~ extra ~ ") }}",
        "{{ counts_record_update('" ~ counted_by ~ "', 'insert', " ~ extra ~ ") }}",
    ]) }}
{%- endmacro %}

