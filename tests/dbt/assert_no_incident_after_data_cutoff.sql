{#
    Issue 12.3: no published incident occurred after the run's as-of
    (var data_cutoff). Ingestion quarantines such records; this stops a
    future-dated incident that reached raw anyway (a wrong --as-of, a portal
    typo) from being published. Without the var (plain dbt) nothing is checked.
#}
{%- set cutoff = date_var('data_cutoff') -%}

select
    incident_id,
    occurred_date
from {{ ref('fct_incidents') }}
{%- if cutoff is not none %}
where occurred_date > cast('{{ cutoff }}' as date)
{%- else %}
where 1 = 0
{%- endif %}
