"""p38, issue 16 P2: the area -> incident relationships test reads the day's incidents only.

``relationships_within`` is dbt's relationships test with the parent narrowed by ``to_where``
(``__recent_rows__``: the parent's own incremental window, as a UNION ALL of branches DuckDB
pushes into the scan). fct_incident_areas' test used to hash every fct_incidents row whenever
DuckDB built the join on the parent. A narrower parent can only add failures: the test must
still fail on a missing parent, and also on a parent outside its window, which is what makes
the narrowing exact only while an area row keeps its incident's window columns.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEV, dbt, query
from project_copy import project_with_models
from test_incremental_where import compiled, latest, literal

from orchestration.dbt_runner import DbtRunResult

MODELS = {
    # 'a' inside the 3-day window of the newest source_updated_at, 'b' months before it.
    "within_parent.sql": """
select 'a' as incident_id, cast('2025-06-10 00:00:00' as timestamp) as source_updated_at,
    '1749513600.1' as dlt_load_id
union all
select 'b' as incident_id, cast('2025-01-01 00:00:00' as timestamp) as source_updated_at,
    '1735689600.1' as dlt_load_id
""",
    "within_child.sql": """
select 'a' as incident_id union all select 'b' union all select 'z'
union all select cast(null as varchar)
""",
}

YAML = """
version: 2
models:
  - name: within_parent
    description: Two incidents, one inside the window.
  - name: within_child
    description: Areas of a recent, an old and a missing incident.
    columns:
      - name: incident_id
        description: The incident.
        data_tests:
          - relationships_within:
              name: within_every_parent
              arguments: {to: ref('within_parent'), field: incident_id}
          - relationships_within:
              name: within_recent_parents
              arguments:
                to: ref('within_parent')
                field: incident_id
                to_where: __recent_rows__
          - relationships_within:
              name: within_recent_child
              arguments:
                to: ref('within_parent')
                field: incident_id
                to_where: __recent_rows__
              config:
                where: incident_id = 'a'
"""

EXPECTED = {
    "within_every_parent": ("fail", 1),  # 'z'
    "within_recent_parents": ("fail", 2),  # 'z', and 'b' whose parent is outside the window
    "within_recent_child": ("pass", 0),
}


@pytest.fixture(scope="module")
def within_result(
    tmp_path_factory: pytest.TempPathFactory, built: tuple[Path, DbtRunResult]
) -> DbtRunResult:
    files = {**MODELS, "_within__models.yml": YAML}
    project = project_with_models(tmp_path_factory.mktemp("within_project"), "within", files)
    return dbt(built[0], project_dir=project, select=["path:models/within"])


@pytest.mark.parametrize("test_name", sorted(EXPECTED))
def test_relationships_within_fails_on_missing_or_windowed_out_parent(
    within_result: DbtRunResult, test_name: str
) -> None:
    node = within_result.node(test_name)
    assert (node.status, node.rows or 0) == EXPECTED[test_name], node.message


def test_area_relationship_reads_the_incidents_window(
    built: tuple[Path, DbtRunResult], built_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily test of fct_incident_areas.incident_id windows fct_incidents, and passes."""
    _, result = built
    [status] = [
        n.status
        for n in result.nodes
        if n.name.startswith("relationships") and "fct_incident_areas_incident_id" in n.name
    ]
    assert status == "pass"
    sql = compiled(built_copy, monkeypatch, select=("fct_incident_areas",))
    [test_sql] = [
        code
        for name, code in sql.items()
        if name.startswith("relationships") and "fct_incident_areas_incident_id" in name
    ]
    incidents = f"{DEV}marts.fct_incidents"
    start = literal(latest(built_copy, incidents, "source_updated_at"), 3)
    [(load,)] = query(
        built_copy,
        f"select min(dlt_load_id) from {incidents} where source_updated_at >= {start}",
    )
    flat = " ".join(test_sql.split())
    # The window as disjoint branches DuckDB pushes into the scan, not one `or` (p38).
    parent = f'from "{built_copy.stem}"."{DEV}marts"."fct_incidents" where'
    branches = (
        f"{parent} source_updated_at >= {start} union all",
        f"{parent} source_updated_at is null union all",
        f"{parent} dlt_load_id >= '{load}' and source_updated_at < {start})",
    )
    for branch in branches:
        assert branch in flat, flat
