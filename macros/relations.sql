{#
    Small questions about relations in the warehouse, asked at compile time
    (all answer false or [] at parse time, when nothing can be looked up).
#}
{#- Lower-case column names of a relation except `excluded` ([] at parse time). -#}
{% macro columns_except(relation, excluded) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in excluded -%}
                {%- do names.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}


{#- True when the relation exists in the warehouse and has the column. -#}
{% macro relation_has_column(relation, column_name) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier
    ) -%}
    {%- if existing is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for column in adapter.get_columns_in_relation(existing) -%}
        {%- if column.name | lower == column_name | lower -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}


{#- True when the relation exists in the warehouse (false at parse time). -#}
{% macro relation_exists(relation) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier
    ) is not none) }}
{%- endmacro %}


{#- max(column) of the relation, read from the warehouse (none when empty). -#}
{% macro column_max(relation, column) -%}
    {%- set query -%}
        select max({{ column }}) from {{ relation }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}


{#-
    A dict that lives for one dbt invocation, for compile-time answers that
    cannot change during it (the source profile; a data test's window over a
    relation its model already built). On BigQuery each query is billed (at
    least 10 MB per table), and ~50 nodes asked the same few (issue 16).
    Kept in `graph` (one dict shared by every node of an invocation) under
    the invocation id, because blotter passes one parsed manifest to several
    invocations and each must start empty. {} at parse time.
-#}
{% macro invocation_cache() -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set caches = graph.setdefault('blotter_invocation_cache', {}) -%}
    {%- if invocation_id not in caches -%}
        {#- Another invocation's answers: dropped, never read. -#}
        {%- do caches.clear() -%}
        {%- do caches.update({invocation_id: {}}) -%}
    {%- endif -%}
    {{ return(caches[invocation_id]) }}
{%- endmacro %}


{#-
    DuckDB's persist_docs (dbt dispatches it here before its default):
    writes only the comments the relation lacks. dbt's default writes every
    comment of every model at every run (two `describe`s and two statements
    per model; t28), though an incremental model keeps its comments between
    runs. One catalog query reads what the relation holds, so a created,
    re-created (tables and views lose their comments) or re-documented
    model still gets every comment; the statements are dbt-duckdb's.
-#}
{% macro duckdb__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- set relation_doc = for_relation and config.persist_relation_docs()
        and model.description -%}
    {%- set column_docs = for_columns and config.persist_column_docs()
        and model.columns -%}
    {%- if not (relation_doc or column_docs) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set held = catalog_comments(relation) -%}
    {%- set statements = [] -%}
    {%- if relation_doc and held.relation != model.description -%}
        {%- do statements.append(
            alter_relation_comment(relation, model.description)
        ) -%}
    {%- endif -%}
    {%- if column_docs -%}
        {#- Warns about documented columns the relation lacks, as dbt does. -#}
        {%- set documented = validate_doc_columns(
            relation, model.columns, held.columns.keys() | list
        ) -%}
        {%- for name, column in documented.items() -%}
            {#- dbt-duckdb comments only exact-case names (alter_column_comment). -#}
            {%- if name in held.columns
                and held.columns[name] != column.description -%}
                {%- do statements.append(
                    'comment on column ' ~ relation ~ '.'
                    ~ (adapter.quote(name) if column.quote else name) ~ ' is '
                    ~ duckdb_escape_comment(column.description) ~ ';'
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if statements -%}
        {%- do run_query(statements | join('\n')) -%}
    {%- endif -%}
{%- endmacro %}


{#-
    {'relation': its comment, 'columns': {name: comment}} of a DuckDB
    relation (table or view), from one catalog query.
-#}
{% macro catalog_comments(relation) -%}
    {%- set quoted = {} -%}
    {%- for part, value in [('database', relation.database),
            ('schema', relation.schema), ('identifier', relation.identifier)] -%}
        {%- do quoted.update({part: "lower('" ~ (value | replace("'", "''")) ~ "')"}) -%}
    {%- endfor -%}
    {%- set names -%}
        lower(database_name) = {{ quoted.database }}
        and lower(schema_name) = {{ quoted.schema }}
    {%- endset -%}
    {%- set identifier = quoted.identifier -%}
    {%- set query -%}
        select null as column_name, comment from duckdb_tables()
        where {{ names }} and lower(table_name) = {{ identifier }}
        union all
        select null, comment from duckdb_views()
        where {{ names }} and lower(view_name) = {{ identifier }}
        union all
        select column_name, comment from duckdb_columns()
        where {{ names }} and lower(table_name) = {{ identifier }}
    {%- endset -%}
    {%- set held = {'relation': none, 'columns': {}} -%}
    {%- for row in run_query(query) -%}
        {%- if row[0] is none -%}
            {%- do held.update({'relation': row[1]}) -%}
        {%- else -%}
            {%- do held.columns.update({row[0]: row[1]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(held) }}
{%- endmacro %}
