{#
    dbt's `where` test config (dbt renders it while parsing, when the
    warehouse cannot be asked), plus placeholders resolved when the test
    runs: __recent_rows__ becomes the rows a daily build can have changed in
    the tested relation (recent_rows_predicate); __unreconciled_loads__ the
    raw rows of loads int_incidents_deduplicated has not merged as they are
    (unreconciled_loads_predicate): new loads, and old ones a fault
    unbalanced; __recent_incidents__ the rows of a view over
    int_incidents_deduplicated (one row per incident, or per incident and
    level, with its source_updated_at and dlt_load_id) in the same window,
    read from the table (the view's own max would read every incident);
    __built_keys__ the keys a snapshot wrote (built_keys_where).
    Only for tests whose full property the model guarantees by
    construction, or that hold for old rows because raw rows never change
    after their load (the YAML says why); every row off the published
    basis (basis_as_published: e.g. an edited source profile).
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set alone = where | trim -%}
    {%- if alone in ('__recent_rows__', '__recent_incidents__') -%}
        {%- set read = recent_rows_read(relation, anchor=graph_relation(
            'int_incidents_deduplicated') or none
            if alone == '__recent_incidents__' else none) -%}
        {%- if read -%}
            {{ return('(' ~ read ~ ') dbt_subquery') }}
        {%- endif -%}
    {%- endif -%}
    {%- if '__recent_rows__' in where -%}
        {%- set where = where | replace(
            '__recent_rows__', recent_rows_predicate(relation)
        ) -%}
    {%- endif -%}
    {%- if '__recent_incidents__' in where -%}
        {%- set where = where | replace(
            '__recent_incidents__',
            recent_rows_predicate(relation, anchor=graph_relation(
                'int_incidents_deduplicated') or none)
        ) -%}
    {%- endif -%}
    {%- set built = built_keys_where(relation, where) -%}
    {%- set where = built.where -%}
    {%- if '__unreconciled_loads__' in where -%}
        {%- set where = where | replace(
            '__unreconciled_loads__', unreconciled_loads_predicate(relation)
        ) -%}
    {%- endif -%}
    {%- set filtered -%}
        ({{ built.with }}select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}


{#-
    source_updated_at within var('incidents_lookback_days') of the newest
    in `relation`, or null (such rows are re-merged on every run): the
    incremental window, anchored after this run's merge. With load lineage,
    also every row of a load at least as new as the oldest load inside that
    window: rows a late load brought in with an old :updated_at
    (incremental_where's load_column). `anchor`: the table whose rows
    `relation` shows with the same two columns, read instead of it. `true`
    on --full-refresh, at parse time, off the published basis, without anchor.
-#}
{% macro recent_rows_predicate(
    relation, column='source_updated_at', load_column='dlt_load_id',
    anchor=none
) -%}
    {%- if not execute or flags.FULL_REFRESH or not basis_as_published(relation) -%}
        {{ return('true') }}
    {%- endif -%}
    {%- if anchor is not none -%}
        {%- if not relation_exists(anchor) -%}
            {{ return('true') }}
        {%- endif -%}
        {%- set relation = anchor -%}
    {%- endif -%}
    {%- set branches = recent_rows_branches(relation, column, load_column) -%}
    {{ return('(' ~ (branches | join(' or ')) ~ ')' if branches else 'true') }}
{%- endmacro %}


{#-
    recent_rows_predicate's window as disjoint predicates (none when the
    window is every row): `column >= start`, `column is null` and, with load
    lineage, `load_column >= oldest and column < start`. Once per relation
    and invocation: a test compiles after its model (and the anchor,
    upstream of it) is built, and neither changes again in that invocation,
    so the 13 windowed tests ask 3 times, not 13.
-#}
{% macro recent_rows_branches(
    relation, column='source_updated_at', load_column='dlt_load_id'
) -%}
    {%- if not execute or flags.FULL_REFRESH or not basis_as_published(relation) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'recent_rows ' ~ relation ~ ' ' ~ column ~ ' ' ~ load_column -%}
    {%- if key not in cache -%}
        {%- do cache.update({key: recent_rows_window(relation, column, load_column)}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#-
    The rows of `relation` in its recent_rows window (that of `anchor`, if
    given, as recent_rows_predicate) as one select per branch, or none to
    filter with the `or` predicate instead. On DuckDB the
    union: 1.5 cannot push an `or` across two columns into the scan, so one
    predicate reads every row (0.44 s for fct_incident_areas' 4M rows at 1M
    incidents), where each branch skips the row groups outside it (0.03 s;
    over the views on int_incidents_deduplicated 0.13 s -> 0.08 s).
    On BigQuery, which prunes nothing here, each branch would bill the
    columns again.
-#}
{% macro recent_rows_read(relation, anchor=none) -%}
    {{ return(adapter.dispatch('recent_rows_read')(relation, anchor)) }}
{%- endmacro %}

{% macro default__recent_rows_read(relation, anchor) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__recent_rows_read(relation, anchor) -%}
    {%- if anchor is not none and not relation_exists(anchor) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set branches = recent_rows_branches(
        relation if anchor is none else anchor) -%}
    {%- if not branches -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set selects = [] -%}
    {%- for branch in branches -%}
        {%- do selects.append('select * from ' ~ relation ~ ' where ' ~ branch) -%}
    {%- endfor -%}
    {{ return(selects | join(' union all ')) }}
{%- endmacro %}


{#- recent_rows_branches' list, read from the warehouse. -#}
{% macro recent_rows_window(relation, column, load_column) -%}
    {%- set latest = column_max(relation, column) -%}
    {%- if latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = var('incidents_lookback_days', 3) | int -%}
    {%- set start = latest - modules.datetime.timedelta(days=days) -%}
    {%- set after = "cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S')
        ~ "' as " ~ dbt.type_timestamp() ~ ')' -%}
    {%- set branches = [column ~ ' >= ' ~ after, column ~ ' is null'] -%}
    {%- if relation_has_column(relation, load_column) -%}
        {%- set oldest -%}
            select min({{ load_column }}) from {{ relation }}
            where {{ column }} >= {{ after }}
        {%- endset -%}
        {%- set oldest = run_query(oldest).columns[0].values()[0] -%}
        {#- Inlined (DuckDB then pushes the filter into the scan and its
            statistics skip row groups); a value that is not a dlt load id
            is read by a subquery instead. None: no load to add. The
            `column < start` keeps the branches disjoint (a null compares
            to nothing). -#}
        {%- if oldest is none -%}
        {%- elif modules.re.fullmatch('[0-9]{10}([.][0-9]+)?', oldest | string) -%}
            {%- do branches.append(load_column ~ " >= '" ~ oldest ~ "' and "
                ~ column ~ ' < ' ~ after) -%}
        {%- else -%}
            {%- do branches.append(load_column ~ ' >= (select min('
                ~ load_column ~ ') from ' ~ relation ~ ' where ' ~ column
                ~ ' >= ' ~ after ~ ') and ' ~ column ~ ' < ' ~ after) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(branches) }}
{%- endmacro %}


{#-
    The rows of `relation` (staging over raw.incidents) in loads whose raw
    row count differs from what int_incidents_deduplicated holds of them,
    inlined as a list of load ids (`false` when every load reconciles).
    Raw keeps one row per record key and a row never changes after its
    load (dlt writes a new or changed record in a new load with a larger id
    and deletes its older row), so an old load that reconciles holds only
    rows checked when it landed. What the model holds of a load excludes
    the records a load newer than its newest one brings (moved, not yet
    merged), so the same list is right before the model's merge (when
    staging's own tests run in a `dbt build`) and after it: the new loads,
    plus any load a second row for a key, a row added in place, or a skewed
    load id (older than the newest merged) unbalances. Counting reads only
    the load id column of raw and the key and load columns of the model.
-#}
{% macro unreconciled_loads_predicate(
    relation, load_column='dlt_load_id', key_column='record_key'
) -%}
    {%- set merged = merged_incidents() -%}
    {#- Once per invocation: staging's restricted tests all run before
        the model's merge (a `dbt build` gates it on them) and the list is
        the same after it (above). -#}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'unreconciled ' ~ relation ~ ' ' ~ merged ~ ' ' ~ load_column
        ~ ' ' ~ key_column -%}
    {%- if key not in cache -%}
        {%- do cache.update({key: unreconciled_loads(
            relation, merged, load_column, key_column)}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}


{#- unreconciled_loads_predicate's list, read from the warehouse. -#}
{% macro unreconciled_loads(relation, merged, load_column, key_column) -%}
    {%- set after = loaded_after(load_column, merged)
        if merged is not none else none -%}
    {%- if after is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set query -%}
        with
        landed as (
            select {{ load_column }} as load_id, count(*) as landed_rows
            from {{ relation }}
            group by {{ load_column }}
        ),
        moved as (
            select distinct {{ key_column }} as record_key
            from {{ relation }}
            where {{ load_column }} > {{ after }}
        ),
        kept as (
            select merged.{{ load_column }} as load_id, count(*) as kept_rows
            from {{ merged }} as merged
            left join moved on merged.{{ key_column }} = moved.record_key
            where moved.record_key is null
            group by merged.{{ load_column }}
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


{#- The relation of the model `name` in the graph (none at parse time). -#}
{% macro graph_relation(name) -%}
    {%- set found = namespace(relation=none) -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.name == name -%}
                {%- set found.relation = api.Relation.create(
                    database=node.database, schema=node.schema,
                    identifier=node.alias
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found.relation) }}
{%- endmacro %}


{#-
    int_incidents_deduplicated's relation while staging's load-restricted
    tests may use it, else none (every row is checked): none on
    --full-refresh, outside `dbt build` (`dbt test` checks everything), at
    parse time and off its published colour's basis (basis_as_published).
    Found in the graph, not by ref(): not every test using it depends on it.
-#}
{% macro merged_incidents() -%}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH != 'build' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set merged = graph_relation('int_incidents_deduplicated') -%}
    {{ return(merged if merged is not none and basis_as_published(merged) else none) }}
{%- endmacro %}
