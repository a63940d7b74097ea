"""Issue 13 items 2 and "any Socrata city": staging and marts follow the source profile.

The Buffalo build takes its geography levels, labels, official areas and type maps from the
``raw.source_*`` tables. A second, non-Buffalo shaped source (key ``id``, levels district and
ward, other column names, no description column) builds green with its own levels and leaves no
trace of Buffalo in the compiled project. Absent optional columns are typed nulls; a missing
required column stops with its name.
"""

from __future__ import annotations

import re
from pathlib import Path

import profile_fixture
import pytest
from conftest import SESSION_KEY, copy_db, dbt, prepare_warehouse, pseudonym, query

from orchestration.dbt_runner import DbtRunResult

# Buffalo's own column names, areas and settings (case_number is also Blotter's field name).
BUFFALO_WORDS = re.compile(
    r"police_district|council_district|neighborhood|Buffalo|New_York|"
    r"incident_datetime|incident_type_primary|address_1|District A\b"
)
# The landed Buffalo-shaped raw, renamed into another city's layout.
RENAMES = {
    "case_number": "case_no",
    "incident_datetime": "occurred_on",
    "incident_type_primary": "offense",
    "parent_incident_type": "offense_group",
    "police_district": "district",
    "council_district": "ward",
    "address_1": "block",
    "created_at": "reported_on",
}


def other_city_profile() -> dict:
    """A profile shaped like Chicago's: key ``id``, levels district and ward, no description."""
    profile = profile_fixture.buffalo()
    profile |= {
        "name": "testville",
        "title": "Testville crimes",
        "dataset_id": "abcd-1234",
        "city_name": "Testville",
        "timezone": "America/Chicago",
        "key": "id",
        "pii": ["case_no", "block", "latitude", "longitude", "location"],
    }
    profile["fields"] = {
        "record_key": ["id"],
        "case_number": ["case_no"],
        "occurred_at": ["occurred_on"],
        "reported_at": ["reported_on"],
        "incident_type": ["offense"],
        "parent_incident_type": ["offense_group"],
        "description": ["narrative"],
        "address": ["block"],
        "latitude": ["latitude"],
        "longitude": ["longitude"],
        "location": ["location"],
    }
    profile["geographies"] = [
        {
            "level": "district",
            "label": "Police district",
            "columns": ["district"],
            "values": [f"District {x}" for x in "ABCDE"],
            "normalise": "none",
        },
        {
            "level": "ward",
            "label": "Ward",
            "columns": ["ward"],
            "values": None,
            "normalise": "none",
        },
    ]
    return profile


@pytest.fixture(scope="module")
def other_city(
    raw_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DbtRunResult, Path]:
    """(file, result, target dir) of a plain build of a non-Buffalo shaped source."""
    root = tmp_path_factory.mktemp("other_city")
    db = copy_db(raw_db, root / "wh")
    for old, new in RENAMES.items():
        query(db, f"alter table raw.incidents rename column {old} to {new}")
    query(db, "alter table raw.incidents drop column neighborhood")
    query(db, "alter table raw.incidents drop column incident_description")
    query(db, "alter table raw.incidents add column id varchar")
    query(db, "update raw.incidents set id = cast(10000 + hash(case_no) % 100000000 as varchar)")
    prepare_warehouse(db, other_city_profile())
    target = root / "target"
    return db, dbt(db, extra_env={"DBT_TARGET_PATH": str(target)}), target


def test_buffalo_levels_labels_and_areas_come_from_the_profile(
    built: tuple[Path, DbtRunResult],
) -> None:
    db, _ = built
    levels = query(
        db,
        "select distinct level_order, geo_level, geo_level_label from dev_marts.dim_geography "
        "order by 1",
    )
    assert levels == [
        (0, "city", "City"),
        (1, "police_district", "Police district"),
        (2, "council_district", "Council district"),
        (3, "neighborhood", "Neighborhood"),
    ]
    [(official,)] = query(db, "select count(*) from dev_marts.dim_geography where is_official")
    assert official == 1 + 5 + 9 + 35
    columns = {
        c
        for (c,) in query(
            db,
            "select column_name from information_schema.columns "
            "where table_schema = 'dev_marts' and table_name = 'fct_incidents'",
        )
    }
    assert columns.isdisjoint({"police_district", "council_district", "neighborhood"})
    [(incidents, areas)] = query(
        db,
        "select (select count(*) from dev_marts.fct_incidents), "
        "(select count(*) from dev_marts.fct_incident_areas)",
    )
    assert areas == 4 * incidents  # the city and three levels


def test_other_city_builds_with_its_own_levels(other_city: tuple[Path, DbtRunResult, Path]) -> None:
    db, result, _ = other_city
    assert result.success, result.failing_tests + result.failing_nodes
    assert query(
        db,
        "select distinct level_order, geo_level, geo_level_label, is_official "
        "from dev_marts.dim_geography where not is_unknown_bucket order by all",
    ) == [
        (0, "city", "City", True),
        (1, "district", "Police district", True),
        (2, "ward", "Ward", False),
    ]
    assert query(db, "select geo from dev_marts.dim_geography where geo_level = 'city'") == [
        ("Testville",)
    ]
    keys = [k for (k,) in query(db, "select id from raw.incidents")]
    ids = {i for (i,) in query(db, "select incident_id from dev_marts.fct_incidents")}
    assert ids == {pseudonym(SESSION_KEY, k) for k in keys}
    sums = query(
        db,
        "select geo_level, sum(incidents) from dev_marts.fct_incident_counts "
        "where freq = 'daily' group by 1 order by 1",
    )
    assert sums == [(level, len(keys)) for level in ("city", "district", "ward")]
    # The profile's description column (narrative) is absent from raw: a typed null.
    assert query(
        db,
        "select count(description), any_value(typeof(description)) "
        "from dev_staging.stg_socrata__incidents",
    ) == [(0, "VARCHAR")]


def test_nothing_buffalo_specific_is_left(other_city: tuple[Path, DbtRunResult, Path]) -> None:
    _, result, target = other_city
    compiled = [
        p for p in (target / "compiled" / "blotter").rglob("*.sql") if "unit_test" not in str(p)
    ]
    assert len(compiled) > 30
    hits = {
        str(p.relative_to(target)): sorted(set(BUFFALO_WORDS.findall(p.read_text())))
        for p in compiled
        if BUFFALO_WORDS.search(p.read_text())
    }
    assert hits == {}
    staging = (
        target / "compiled/blotter/models/staging/socrata/stg_socrata__incidents.sql"
    ).read_text()
    assert '"id"' in staging and '"case_no"' in staging and '"occurred_on"' in staging
    # The profile-driven data tests ran (and passed) on the other city's lists.
    for prefix in ("accepted_geo_levels", "no_pii_columns", "k_anonymity", "unknown_geography"):
        statuses = {n.status for n in result.nodes if n.name.startswith(prefix)}
        assert statuses == {"pass"}, prefix


def test_missing_required_column_stops_with_its_name(built_copy: Path) -> None:
    query(built_copy, "alter table raw.incidents drop column incident_datetime")
    result = dbt(built_copy, select=["stg_socrata__incidents+"])
    assert not result.success
    failed = [n for n in result.nodes if n.status in ("error", "fail")]
    assert [(n.resource_type, n.name) for n in failed] == [("model", "stg_socrata__incidents")]
    assert "source lacks required column incident_datetime" in failed[0].message
