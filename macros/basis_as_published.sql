{#-
    False when the build writing `relation` is not of the basis its
    published colour was (every row is then checked): the restricted tests
    rely on old rows having passed these same tests over the same staging,
    but staging reads raw through the landed source profile, and a changed
    profile, test, model, var or key changes what old rows are or how they
    are checked without changing a load or a window. The basis is what a
    blotter command recorded in ops.colour_contents when it prepared the
    colour (orchestration.continued.build_basis with the landed profile,
    engines.duckdb.seed.with_source_profile): a daily build restricts only
    while its colour's basis equals that of the other colour of the same
    schema, published. True without that record (a plain `dbt build`,
    BigQuery: the restriction as before).
-#}
{% macro basis_as_published(relation) -%}
    {%- set record = adapter.get_relation(
        database=target.database, schema='ops', identifier='colour_contents') -%}
    {%- if record is none -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set cache = invocation_cache() -%}
    {%- set key = 'basis_as_published ' ~ relation.schema -%}
    {%- if key not in cache -%}
        {%- set query -%}
            select count(*) from {{ record }} as building
            where building.colour_prefix || building.schema_name
                = {{ sql_string(relation.schema) }}
                and building.state = 'building'
                and exists (
                    select 1 from {{ record }} as live
                    where live.schema_name = building.schema_name
                        and live.colour_prefix != building.colour_prefix
                        and live.state = 'published'
                        and live.basis = building.basis
                )
        {%- endset -%}
        {%- set same = run_query(query).columns[0].values()[0] | int > 0 -%}
        {%- if not same -%}
            {%- do log(relation.schema ~ ': built from another basis than its published '
                ~ 'colour (profile, code, vars or key changed): its restricted tests '
                ~ 'check every row (rows built before a profile edit are rebuilt '
                ~ 'only by a full refresh: blotter rekey)', info=true) -%}
        {%- endif -%}
        {%- do cache.update({key: same}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{%- endmacro %}
