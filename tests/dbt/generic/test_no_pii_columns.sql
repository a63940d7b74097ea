{#-
    Issue 8: no column declared PII upstream (meta pii: true on a source or
    staging column, or listed in the source profile's pii) may reach this
    model under its name unless the model's
    YAML says how it was transformed (meta pii_transform: <method>), and no
    column of this model may itself be declared pii: true. Fails with one row
    per leaked column. Renamed leaks are caught by the value-level tests
    (disjoint_from, expression_is_true on grid and block formats).
-#}
{% test no_pii_columns(model) %}

{%- set leaks = [] -%}
{%- if execute -%}
    {%- set pii_names = [] -%}
    {%- for name in source_profile().get('pii') or [] -%}
        {%- do pii_names.append(name | lower) -%}
    {%- endfor -%}
    {%- for node in graph.sources.values() | list + graph.nodes.values() | list -%}
        {%- for column in node.columns.values() -%}
            {%- set meta = column.meta or {} -%}
            {%- set config_meta = (column.config or {}).get('meta', {}) or {} -%}
            {%- if meta.get('pii') or config_meta.get('pii') -%}
                {%- do pii_names.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- set declared = {} -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.alias == model.identifier
            and node.schema == model.schema -%}
            {%- for name, column in node.columns.items() -%}
                {%- set meta = column.meta or {} -%}
                {%- set config_meta = (column.config or {}).get('meta', {}) or {} -%}
                {%- set merged = {} -%}
                {%- do merged.update(meta) -%}
                {%- do merged.update(config_meta) -%}
                {%- do declared.update({name | lower: merged}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}

    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- set name = column.name | lower -%}
        {%- set meta = declared.get(name, {}) -%}
        {%- if meta.get('pii')
            or (name in pii_names and not meta.get('pii_transform')) -%}
            {%- do leaks.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- if leaks -%}
    {%- for name in leaks %}
select '{{ name }}' as leaked_column
{% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- else -%}
select cast(null as {{ dbt.type_string() }}) as leaked_column
where 1 = 0
{%- endif -%}

{% endtest %}
