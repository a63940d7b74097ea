"""Issue 12 item 15: the type breakdown sums to the area totals, with its grain explicit.

Small cells are suppressed (k = 5, with secondary suppression); what they hold is published per
area and week as one "other (suppressed)" row, so an analyst who sums the breakdown gets exactly
fct_incident_counts' weekly count instead of silently under-counting.
"""

from __future__ import annotations

from pathlib import Path

from conftest import query

from orchestration.dbt_runner import DbtRunResult

REMAINDER = "other (suppressed)"
BY_TYPE = "dev_marts.fct_incident_counts_by_type"


def test_type_breakdown_sums_to_the_weekly_area_counts(built: tuple[Path, DbtRunResult]) -> None:
    db, _ = built
    mismatches = query(
        db,
        f"""
        with by_type as (
            select period_start, geo_level, geo, sum(coalesce(incidents, 0)) as incidents
            from {BY_TYPE} group by all
        ),
        totals as (
            select period_start, geo_level, geo, incidents
            from dev_marts.fct_incident_counts
            where freq = 'weekly' and geo_level != 'city'
        )
        select * from totals full outer join by_type using (period_start, geo_level, geo)
        where totals.incidents is distinct from by_type.incidents
        """,
    )
    assert mismatches == []


def test_district_a_remainder_restores_what_suppression_hides(
    built: tuple[Path, DbtRunResult],
) -> None:
    """The issue's case: District A's published cells sum below its true weekly count."""
    db, _ = built
    rows = query(
        db,
        f"""
        select
            by_type.period_start,
            sum(by_type.incidents) filter (where parent_incident_type != '{REMAINDER}'),
            coalesce(sum(by_type.incidents) filter (where parent_incident_type = '{REMAINDER}'), 0),
            any_value(totals.incidents)
        from {BY_TYPE} as by_type
        inner join dev_marts.fct_incident_counts as totals
            on totals.freq = 'weekly' and totals.period_start = by_type.period_start
            and totals.geo_level = by_type.geo_level and totals.geo = by_type.geo
        where by_type.geo = 'District A'
        group by all
        """,
    )
    under_counted = [(week, cells, rest, true) for week, cells, rest, true in rows if cells < true]
    assert under_counted, "the fixture has no suppressed cell in District A"
    for _week, cells, remainder, true_count in under_counted:
        assert cells + remainder == true_count


def test_grain_is_explicit_and_real_cells_stay_k_anonymous(
    built: tuple[Path, DbtRunResult],
) -> None:
    db, result = built
    assert query(db, f"select distinct freq from {BY_TYPE}") == [("weekly",)]
    [(small_real_cells,)] = query(
        db,
        f"select count(*) from {BY_TYPE} where parent_incident_type != '{REMAINDER}' "
        "and incidents between 1 and 4",
    )
    assert small_real_cells == 0
    reconcile = [n for n in result.nodes if n.name.startswith("sums_reconcile_fct_incident_counts")]
    assert [n.status for n in reconcile] == ["pass"]
