"""Issue 13 item 1: drifting names of one geography field are coalesced row by row.

The portal published the neighbourhood as ``neighborhood_1`` in some years and ``neighborhood``
in others. A raw table holding both, each filled on part of the history, must not move the rows
of the other part to UNKNOWN (73 % did on the real data). A share of UNKNOWN above a few percent
in the latest load warns; above a quarter it stops the build.
"""

from __future__ import annotations

from pathlib import Path

from conftest import dbt, query

from orchestration.dbt_runner import DbtRunResult

UNKNOWN_NEIGHBORHOODS = (
    "select sum(incidents) from {schema}.fct_incident_counts "
    "where freq = 'monthly' and geo_level = 'neighborhood' and geo = 'UNKNOWN'"
)


def test_renamed_column_is_coalesced_row_by_row(
    built: tuple[Path, DbtRunResult], plain_rebuild: tuple[Path, DbtRunResult, dict[str, str]]
) -> None:
    baseline = query(built[0], UNKNOWN_NEIGHBORHOODS.format(schema="dev_marts"))[0][0]
    # The older 73 % of the history carries the old name, the rest the new one; columns the
    # profile does not know (newer snapshots' zip_code, incident_id) are ignored. Rebuilt by a
    # plain full refresh (conftest.plain_rebuild, which also makes every incident a ROBBERY).
    db, result, _ = plain_rebuild
    [(renamed, kept)] = query(
        db, "select count(neighborhood_1), count(neighborhood) from raw.incidents"
    )
    assert renamed > 0 and kept > 0
    assert result.success, result.failing_tests + result.failing_nodes
    assert query(db, UNKNOWN_NEIGHBORHOODS.format(schema="dev_marts")) == [(baseline,)]
    assert not [n for n in result.warning_tests if "unknown" in n], result.warning_tests


def test_unknown_share_warns_above_a_few_percent_and_errors_above_a_quarter(
    built: tuple[Path, DbtRunResult], built_copy: Path
) -> None:
    tests = [n.name for n in built[1].nodes if n.name.startswith("unknown_geography_share")]
    assert len(tests) == 2 and {built[1].node(n).status for n in tests} == {"pass"}
    # The (single) latest load loses 10 % of its police districts and 30 % of its council ones.
    for column, share in (("police_district", 0.10), ("council_district", 0.30)):
        query(
            built_copy,
            f"update raw.incidents set {column} = null where hash(case_number, ?) % 1000 < ?",
            [column, int(share * 1000)],
        )
    result = dbt(built_copy, "test", select=["test_name:unknown_geography_share"])
    outcome = {
        n.name.rsplit("_", 1)[-1]: (n.status, n.rows)
        for n in result.nodes
        if n.resource_type == "test"
    }
    # The 5 % test warns on both levels; the 25 % test fails on the council districts only.
    assert outcome == {"05": ("warn", 2), "25": ("fail", 1)}
    assert not result.success
