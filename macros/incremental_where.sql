{#
    The window predicate of every incremental node (cal-itp's
    incremental_where): `filter_column >= start`, where start is
    max(this_column) already in {{ this }} minus lookback_days, because
    Socrata revises old rows. start is computed up front and inlined as a
    timestamp literal so BigQuery can prune partitions (it does not prune on
    subqueries). `true` on a full build: a first run, --full-refresh, a
    snapshot whose table does not exist yet, and parse time.

    With load_column (dlt's load id), rows of a load newer than any in
    {{ this }} are inside the window too, whatever their :updated_at: a
    profile whose ingestion look-back is longer than this window (Chicago:
    7 days), or `blotter ingest --full-refresh`, lands rows whose
    :updated_at is older than the window start. dlt writes every new or
    changed raw row with its load's id.
#}
{% macro incremental_where(
    this_column='source_updated_at',
    filter_column=none,
    lookback_days=none,
    keep_nulls=false,
    load_column=none
) -%}
    {%- set start = incremental_lookback_start(this_column, lookback_days) -%}
    {%- if start is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set column = filter_column or this_column -%}
    {%- set predicate = column ~ ' >= ' ~ start -%}
    {%- if keep_nulls -%}
        {%- set predicate = predicate ~ ' or ' ~ column ~ ' is null' -%}
    {%- endif -%}
    {%- if load_column -%}
        {%- set after = loaded_after(load_column) -%}
        {%- if after is none -%}
            {{ return('true') }}
        {%- endif -%}
        {%- set predicate = predicate ~ ' or ' ~ load_column ~ ' > ' ~ after -%}
    {%- endif -%}
    {{ return('(' ~ predicate ~ ')' if ' or ' in predicate else predicate) }}
{%- endmacro %}


{#-
    The newest dlt load id in `relation` (default {{ this }}), as a string
    literal, or none when every row must be merged: the table has no such
    column yet (built before it carried load lineage) or no load id at all.
    Load ids are dlt's decimal Unix times, so string order is load order;
    anything else stops the compile rather than guess.
-#}
{% macro loaded_after(column, relation=none) -%}
    {%- set relation = relation if relation is not none else this -%}
    {%- if not relation_has_column(relation, column) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest = column_max(relation, column) -%}
    {%- if latest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{10}([.][0-9]+)?', latest | string) -%}
        {{ exceptions.raise_compiler_error(
            'newest ' ~ column ~ ' in ' ~ relation ~ ' is not a dlt load id: '
            ~ (latest | string)[:40] ~ '; rebuild it with --full-refresh'
        ) }}
    {%- endif -%}
    {{ return("'" ~ latest ~ "'") }}
{%- endmacro %}


{#-
    max(column) of {{ this }} minus lookback_days as a timestamp literal, or
    none when the node builds in full. A snapshot counts as incremental once
    its table exists; a model when is_incremental() says so.
-#}
{% macro incremental_lookback_start(column, lookback_days=none) -%}
    {%- if not execute or this is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if model.resource_type == 'snapshot' -%}
        {%- if not relation_exists(this) -%}
            {{ return(none) }}
        {%- endif -%}
    {%- elif not is_incremental() -%}
        {{ return(none) }}
    {%- elif not relation_has_column(this, column) -%}
        {#-
            A table built before it had the column (fct_incident_areas
            before issue 16): merge every row once; on_schema_change adds
            the column.
        -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = lookback_days if lookback_days is not none
        else var('incidents_lookback_days', 3) -%}
    {%- set latest = column_max(this, column) -%}
    {%- if latest is none -%}
        {#- An empty table: everything is inside the window. -#}
        {{ return("cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endif -%}
    {%- set start = latest - modules.datetime.timedelta(days=days | int) -%}
    {{ return(
        "cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S') ~ "' as "
        ~ dbt.type_timestamp() ~ ")"
    ) }}
{%- endmacro %}
