{#
    dbt's `where` test config (dbt renders it while parsing, when the
    warehouse cannot be asked), plus placeholders resolved when the test
    runs: __recent_rows__ becomes the rows a daily build can have changed in
    the tested relation (recent_rows_predicate); __new_loads__ the raw rows
    of loads not yet merged into int_incidents_deduplicated
    (new_loads_predicate); __unreconciled_loads__ the raw rows of loads
    whose row count int_incidents_deduplicated does not match
    (unreconciled_loads_predicate). Only for tests whose full property the model
    guarantees by construction or that raw being append-only per load makes
    incremental; the YAML says why next to each use.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if '__recent_rows__' in where -%}
        {%- set where = where | replace(
            '__recent_rows__', recent_rows_predicate(relation)
        ) -%}
    {%- endif -%}
    {%- if '__unreconciled_loads__' in where -%}
        {%- set where = where | replace(
            '__unreconciled_loads__', unreconciled_loads_predicate(relation)
        ) -%}
    {%- endif -%}
    {%- if '__new_loads__' in where -%}
        {%- set where = where | replace(
            '__new_loads__', new_loads_predicate(relation)
        ) -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}


{#-
    source_updated_at within var('incidents_lookback_days') of the newest
    in `relation`, or null (such rows are re-merged on every run): the
    incremental window, anchored after this run's merge. With load lineage,
    also every row of a load at least as new as the oldest load inside that
    window: rows a late load brought in with an old :updated_at
    (incremental_where's load_column). `true` on a --full-refresh and at
    parse time.
-#}
{% macro recent_rows_predicate(
    relation, column='source_updated_at', load_column='dlt_load_id'
) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set latest = column_max(relation, column) -%}
    {%- if latest is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set days = var('incidents_lookback_days', 3) | int -%}
    {%- set start = latest - modules.datetime.timedelta(days=days) -%}
    {%- set after = "cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S')
        ~ "' as " ~ dbt.type_timestamp() ~ ')' -%}
    {%- set predicate = column ~ ' >= ' ~ after ~ ' or ' ~ column ~ ' is null' -%}
    {%- if relation_has_column(relation, load_column) -%}
        {%- set predicate = predicate ~ ' or ' ~ load_column ~ ' >= (select min('
            ~ load_column ~ ') from ' ~ relation ~ ' where ' ~ column ~ ' >= '
            ~ after ~ ')' -%}
    {%- endif -%}
    {{ return('(' ~ predicate ~ ')') }}
{%- endmacro %}



{#-
    The rows of `relation` (staging over raw.incidents) that landed in loads
    newer than the newest merged into int_incidents_deduplicated: what a
    daily `dbt build` merges. Raw rows never change after their load (dlt
    writes a new or changed record in a new load with a larger id and
    deletes its older row), so older rows were checked by the build that
    merged them. Staging's tests run before
    int_incidents_deduplicated is built in a `dbt build`, so its newest load
    id is still the previous build's.
-#}
{% macro new_loads_predicate(relation, load_column='dlt_load_id') -%}
    {%- set merged = merged_incidents(load_column) -%}
    {%- set after = loaded_after(load_column, merged)
        if merged is not none else none -%}
    {%- if after is none -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return('(' ~ load_column ~ ' > ' ~ after ~ ')') }}
{%- endmacro %}


{#-
    The rows of `relation` in loads whose row count differs from the rows
    int_incidents_deduplicated holds of that load, inlined as a list of load
    ids (`false` when every load reconciles). With one raw row per record
    key, a load reconciles when each of its rows was merged and none was
    replaced since by an unmerged load, so a row the incremental window
    skipped (a load id older than the newest merged, from a skewed clock,
    or a row written into an old load) puts its load on the list; counting
    rows per load reads only the load id column. A load missing a row still
    reconciles only if as many of its merged rows moved to a skipped load.
-#}
{% macro unreconciled_loads_predicate(relation, load_column='dlt_load_id') -%}
    {%- set merged = merged_incidents(load_column) -%}
    {%- if merged is none or not relation_has_column(merged, load_column) -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set query -%}
        with
        landed as (
            select {{ load_column }} as load_id, count(*) as landed_rows
            from {{ relation }}
            group by {{ load_column }}
        ),
        kept as (
            select {{ load_column }} as load_id, count(*) as kept_rows
            from {{ merged }}
            group by {{ load_column }}
        )
        select landed.load_id
        from landed
        left join kept on landed.load_id = kept.load_id
        where kept.kept_rows is null or kept.kept_rows != landed.landed_rows
    {%- endset -%}
    {%- set loads = run_query(query).columns[0].values() -%}
    {%- if loads | length == 0 -%}
        {{ return('false') }}
    {%- endif -%}
    {%- set ids = [] -%}
    {%- for load in loads -%}
        {%- if load is none -%}
            {%- do ids.append('null') -%}
        {%- elif modules.re.fullmatch('[0-9]{10}([.][0-9]+)?', load | string) -%}
            {%- do ids.append("'" ~ load ~ "'") -%}
        {%- else -%}
            {#- Not a dlt load id: not inlined, every row is checked. -#}
            {{ return('true') }}
        {%- endif -%}
    {%- endfor -%}
    {%- set listed = ids | reject('equalto', 'null') | list -%}
    {%- set predicate = load_column ~ ' in (' ~ (listed | join(', ') or 'null')
        ~ ')' -%}
    {%- if 'null' in ids -%}
        {%- set predicate = predicate ~ ' or ' ~ load_column ~ ' is null' -%}
    {%- endif -%}
    {{ return('(' ~ predicate ~ ')') }}
{%- endmacro %}


{#-
    int_incidents_deduplicated's relation while staging's load-restricted
    tests may use it, else none (every row is checked): none on
    --full-refresh, outside `dbt build` (`dbt test` checks everything) and
    at parse time. Found in the graph, not by ref(): the tests that use it
    do not all depend on the model.
-#}
{% macro merged_incidents(load_column='dlt_load_id') -%}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH != 'build' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = namespace(relation=none) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.name == 'int_incidents_deduplicated' -%}
            {%- set found.relation = api.Relation.create(
                database=node.database, schema=node.schema,
                identifier=node.alias
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found.relation) }}
{%- endmacro %}
