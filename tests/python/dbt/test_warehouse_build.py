"""``dbt build`` on landed data: green, conserving, one row per incident.

Incremental days against a full refresh: ``test_incremental_equivalence.py``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from conftest import dbt, query

from orchestration.dbt_runner import DbtRunResult

MARTS = (
    "fct_incidents",
    "fct_incident_counts",
    "fct_incident_counts_by_type",
    "dim_geography",
    "dim_incident_type",
    "dim_date",
)


def test_build_is_green_with_at_least_40_tests(built: tuple[Path, DbtRunResult]) -> None:
    db, result = built
    assert result.success, result.failing_tests + result.failing_nodes
    assert result.tests_passed >= 40
    names = {n.name for n in result.nodes}
    assert {*MARTS, "snap_incidents", "stg_socrata__incidents"} <= names
    assert result.node("fct_incidents").rows and result.node("fct_incidents").rows > 0
    assert any(n.resource_type == "unit_test" for n in result.nodes)


def test_counts_conserve_incidents(built: tuple[Path, DbtRunResult]) -> None:
    db, _ = built
    [(dated,)] = query(
        db, "select count(*) from dev_marts.fct_incidents where occurred_date is not null"
    )
    sums = query(
        db,
        "select freq, geo_level, sum(incidents) from dev_marts.fct_incident_counts group by all",
    )
    assert len(sums) == 12
    assert {total for *_, total in sums} == {dated}


def test_zero_filled_counts(built: tuple[Path, DbtRunResult]) -> None:
    db, _ = built
    holes = query(
        db,
        """
        select freq, geo_level
        from dev_marts.fct_incident_counts
        group by all
        having count(*) != count(distinct period_start) * count(distinct geo)
        """,
    )
    assert holes == []


def test_no_raw_identifiers_reach_the_marts(built: tuple[Path, DbtRunResult]) -> None:
    """No mart text value is a raw case number or an exact (non-block) source address."""
    db, _ = built
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "create temp table secrets as "
            "select trim(case_number) as v from raw.incidents union "
            "select upper(trim(address_1)) from raw.incidents "
            "where address_1 is not null and upper(address_1) not like '%BLOCK%'"
        )
        for table in MARTS:
            columns = con.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'dev_marts' and table_name = ? and data_type = 'VARCHAR'",
                [table],
            ).fetchall()
            for (column,) in columns:
                leaked = con.execute(
                    f'select count(*) from dev_marts."{table}" where upper("{column}") in '
                    "(select v from secrets)"
                ).fetchone()[0]
                assert leaked == 0, f"{table}.{column} carries raw identifiers"
    finally:
        con.close()


def test_duplicate_case_number_in_raw_fails_the_build(built_copy: Path) -> None:
    con = duckdb.connect(str(built_copy))
    try:
        con.execute("insert into raw.incidents select * from raw.incidents limit 1")
    finally:
        con.close()
    result = dbt(built_copy)
    assert not result.success
    assert "unique_stg_socrata__incidents_record_key" in result.failing_tests
    assert result.node("fct_incidents").status == "skipped"
