"""Each project generic test fails on a deliberately bad model (issues 3 and 8).

A temporary copy of the dbt project gets models/leaky/: models that leak PII, publish small
cells, break conservation or zero-fill. Each test on them must FAIL; the same tests pass on the
real marts (the session build).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import dbt
from project_copy import project_with_models

from orchestration.dbt_runner import DbtRunResult

LEAKY_MODELS = {
    "leaky_incidents.sql": """
select case_number, record_key, address, latitude, incident_type
from {{ ref('stg_socrata__incidents') }}
""",
    "leaky_counts.sql": """
{# Loses the first city day and duplicates one council-district row. #}
with counts as (select * from {{ ref('fct_incident_counts') }})
select * from counts
where not (
    freq = 'daily' and geo_level = 'city'
    and period_start = (select min(period_start) from counts)
)
union all
select * from (
    select * from counts where geo_level = 'council_district' limit 1
) as one_row
""",
    "leaky_breakdown.sql": """
{# The type breakdown without its 'other (suppressed)' rows: sums fall short. #}
select * from {{ ref('fct_incident_counts_by_type') }}
where parent_incident_type != 'other (suppressed)'
""",
    "leaky_cells.sql": """
select 'Allentown' as geo, 3 as incidents, false as is_suppressed
union all select 'Allentown' as geo, 12 as incidents, true as is_suppressed
union all select 'Black Rock' as geo, 7 as incidents, false as is_suppressed
""",
    "leaky_window.sql": """
{# Two rows where one is expected: a missing first day, then days out of order. #}
select cast(null as date) as first_day, cast('2025-01-02' as date) as last_day
union all
select cast('2025-01-05' as date) as first_day, cast('2025-01-01' as date) as last_day
""",
}

LEAKY_YAML = """
version: 2
models:
  - name: leaky_incidents
    description: Copies PII straight from staging.
    data_tests:
      - no_pii_columns: {name: leak_no_pii_columns}
    columns:
      - name: case_number
        description: Raw case number.
        data_tests:
          - disjoint_from:
              name: leak_disjoint_from
              arguments:
                to: ref('stg_socrata__incidents')
                field: case_number
          - disjoint_from:
              name: leak_disjoint_from_where
              arguments:
                to: ref('stg_socrata__incidents')
                field: case_number
              config:
                where: case_number is not null
  - name: leaky_counts
    description: Counts that lose and duplicate rows.
    data_tests:
      - counts_conserve_incidents:
          name: leak_counts_conserve_incidents
          arguments:
            incidents_model: ref('fct_incidents')
            incidents_where: occurred_date is not null
      - zero_filled_grid:
          name: leak_zero_filled_grid
          arguments: {partition_by: [freq, geo_level]}
      - unique_combination_of_columns:
          name: leak_unique_combination_of_columns
          arguments:
            combination_of_columns: [freq, period_start, geo_level, geo]
  - name: leaky_breakdown
    description: A type breakdown whose suppressed cells are simply missing.
    data_tests:
      - sums_reconcile:
          name: leak_sums_reconcile
          arguments:
            to: ref('fct_incident_counts')
            group_by: [freq, period_start, geo_level, geo]
            to_where: "freq = 'weekly' and geo_level != 'city'"
  - name: leaky_cells
    description: Small cells published, a suppressed cell with a value.
    columns:
      - name: incidents
        description: Cell count.
        data_tests:
          - k_anonymity:
              name: leak_k_anonymity
              arguments: {suppression_flag: is_suppressed}
          - accepted_range:
              name: leak_accepted_range
              arguments: {min_value: 5, max_value: 10}
          - expression_is_true:
              name: leak_expression_is_true
              arguments: {expression: ">= 5"}
  - name: leaky_window
    description: A one-row window with two rows, a null and its days out of order.
    data_tests:
      - column_rules:
          name: leak_column_rules
          arguments:
            row_count: 1
            not_null: [first_day, last_day]
            expressions: {day_order: last_day >= first_day}
      - column_rules:
          name: leak_column_rules_one_pass
          arguments:
            one_pass: true
            row_count: 1
            not_null: [first_day, last_day]
            expressions: {day_order: last_day >= first_day}
"""

EXPECTED_FAILURES = {
    "leak_no_pii_columns": 4,  # case_number, record_key, address, latitude
    "leak_disjoint_from": None,
    "leak_disjoint_from_where": None,  # a `where` config wraps the model in a subquery
    "leak_counts_conserve_incidents": None,
    "leak_zero_filled_grid": None,
    "leak_unique_combination_of_columns": None,
    "leak_k_anonymity": 2,  # the small published cell and the suppressed one with a value
    "leak_accepted_range": 2,  # 3 is below 5, 12 above 10
    "leak_expression_is_true": 1,
    "leak_sums_reconcile": None,
    # first_day's not_null, day_order (the null row passes it) and the row count; not last_day
    "leak_column_rules": 3,
    "leak_column_rules_one_pass": 3,
}


@pytest.fixture(scope="module")
def leaky_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {**LEAKY_MODELS, "_leaky__models.yml": LEAKY_YAML}
    return project_with_models(tmp_path_factory.mktemp("leaky_project"), "leaky", files)


@pytest.fixture(scope="module")
def leaky_result(leaky_project: Path, built: tuple[Path, DbtRunResult]) -> DbtRunResult:
    return dbt(built[0], project_dir=leaky_project, select=["path:models/leaky"])


@pytest.mark.parametrize("test_name", sorted(EXPECTED_FAILURES))
def test_generic_test_fails_on_bad_model(leaky_result: DbtRunResult, test_name: str) -> None:
    node = leaky_result.node(test_name)
    assert node.status == "fail", (node.status, node.message)
    if EXPECTED_FAILURES[test_name] is not None:
        assert node.rows == EXPECTED_FAILURES[test_name]


def test_same_generic_tests_pass_on_the_real_marts(built: tuple[Path, DbtRunResult]) -> None:
    _, result = built
    for prefix in (
        "no_pii_columns_fct_incidents",
        "disjoint_from_fct_incidents",
        "counts_conserve_incidents_fct_incident_counts",
        "zero_filled_grid_fct_incident_counts",
        "k_anonymity_fct_incident_counts_by_type",
        "sums_reconcile_fct_incident_counts_by_type",
        "column_rules_",
    ):
        statuses = [n.status for n in result.nodes if n.name.startswith(prefix)]
        assert statuses and set(statuses) == {"pass"}, prefix
