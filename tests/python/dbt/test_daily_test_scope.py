"""Issue 16 P3: a daily build's data tests check the rows it can change; a full refresh, all.

Tests of a merged table's merge key and row rules (``where: __recent_rows__``) and of the views
over int_incidents_deduplicated (``where: __recent_incidents__``, the table's window) read only
the rows a daily build can have changed. Bad rows are planted in the built warehouse's tables and
only the data tests run, so no model is rebuilt and the planted rows stay: ``dbt test`` (the daily
scope: the placeholders restrict it as in an incremental ``dbt build``, whose skipping of tests
downstream of a failure would hide the later ones), and ``dbt build --full-refresh`` of the
tests of one layer of models at a time (no model of a layer upstream of another). A bad row
inside the daily window fails the daily scope; one outside it (an old load, an old
``:updated_at``) is not read again on a daily build (older rows were checked when they were
written, and the merge never changes a row it does not write) and fails on ``--full-refresh``.
A test that reads every row on every build (dim_geography's) fails both ways.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import DEV, dbt, query

from orchestration.dbt_runner import DbtRunResult

INT = f"{DEV}intermediate"
MARTS = f"{DEV}marts"
MODELS = (
    "int_incidents_deduplicated",
    "int_incidents_classified",
    "int_incident_areas",
    "fct_incidents",
    "fct_incident_areas",
    "dim_geography",
)
# Only the data tests of the models: the planted rows must reach them unchanged.
TESTS_ONLY = [f"{model},resource_type:test" for model in MODELS]
# The restricted tests this change made or moved (name prefixes of the test nodes).
RESTRICTED = (
    "unique_int_incidents_deduplicated_record_key",
    "not_null_int_incidents_deduplicated_record_key",
    "unique_int_incidents_classified_record_key",
    "column_rules_int_incidents_classified",
    "unique_combination_of_columns_int_incident_areas",
    "column_rules_int_incident_areas",
    "unique_fct_incidents_incident_id",
    "column_rules_fct_incidents",
    "column_rules_fct_incident_areas",
)
EVERY_ROW = ("column_rules_dim_geography",)
# Older than every load of the fixture (dlt's load ids are decimal Unix times).
OLD_LOAD = "1000000000.000000"


def status(result: DbtRunResult, prefix: str) -> str:
    """The status of the one test node whose name starts with ``prefix``."""
    [node] = [n for n in result.nodes if n.name.startswith(prefix)]
    return node.status


# MODELS in layers none of whose models is upstream of another: ``dbt build`` skips the tests
# downstream of a failing test (the planted rows fail them all), so each layer gets its own
# build, and a test that was skipped instead of run shows as "skipped", not "fail".
LAYERS = (
    ("int_incidents_deduplicated",),
    ("int_incidents_classified",),
    ("int_incident_areas", "fct_incidents"),
    ("fct_incident_areas", "dim_geography"),
)


def full_refresh_statuses(db: Path) -> dict[str, str]:
    """Status per test prefix of ``dbt build --full-refresh`` of the tests, one layer at a time."""
    assert sorted(m for layer in LAYERS for m in layer) == sorted(MODELS)
    out = {}
    for layer in LAYERS:
        result = dbt(
            db, select=[f"{model},resource_type:test" for model in layer], full_refresh=True
        )
        for prefix in (*RESTRICTED, *EVERY_ROW):
            if any(n.name.startswith(prefix) for n in result.nodes):
                out[prefix] = status(result, prefix)
    return out


def pick(db: Path, relation: str, newest: bool) -> tuple[str, ...]:
    """Two distinct row keys of ``relation``: its newest rows by source_updated_at, or oldest."""
    key = "record_key" if relation.startswith(INT) else "incident_id"
    order = "desc" if newest else "asc"
    rows = query(
        db,
        f"select {key} from {relation} where source_updated_at is not null "
        f"order by source_updated_at {order}, {key} limit 2",
    )
    return tuple(r[0] for r in rows)


def plant(db: Path, newest: bool, late: bool = False) -> None:
    """Break every restricted test's property on the newest rows or on the oldest ones.

    Old rows are moved to a load older than every other, so that only their :updated_at and
    load decide whether a daily build reads them; ``late``: to the newest load instead, as a
    late load brings in rows with an old :updated_at.
    """
    dedup, fct, areas = (
        f"{INT}.int_incidents_deduplicated",
        f"{MARTS}.fct_incidents",
        f"{MARTS}.fct_incident_areas",
    )
    (twice, nulled) = pick(db, dedup, newest)
    (twice_id, broken_id) = pick(db, fct, newest)
    if not newest:
        [(latest, newest_load)] = query(
            db, f"select max(source_updated_at), max(dlt_load_id) from {dedup}"
        )
        for relation, key, values in (
            (dedup, "record_key", (twice, nulled)),
            (fct, "incident_id", (twice_id, broken_id)),
            (areas, "incident_id", (twice_id, broken_id)),
        ):
            query(
                db,
                f"update {relation} set dlt_load_id = ? where {key} in (?, ?)",
                [newest_load if late else OLD_LOAD, *values],
            )
            [(updated,)] = query(
                db,
                f"select max(source_updated_at) from {relation} where {key} in (?, ?)",
                list(values),
            )
            assert updated < latest - timedelta(days=3), (relation, updated, latest)
    # A record twice in the table (and so in both views over it), another without its key.
    query(db, f"insert into {dedup} select * from {dedup} where record_key = ?", [twice])
    query(db, f"update {dedup} set record_key = null where record_key = ?", [nulled])
    # An incident twice; another with no parent type and a cut pseudonym; an area row without geo.
    query(db, f"insert into {fct} select * from {fct} where incident_id = ?", [twice_id])
    query(
        db,
        f"update {fct} set parent_incident_type = null, incident_id = left(incident_id, 10) "
        "where incident_id = ?",
        [broken_id],
    )
    query(db, f"update {areas} set geo = null where incident_id = ?", [twice_id])
    query(
        db,
        f"update {MARTS}.dim_geography set geo_level_label = null "
        f"where geography_id = (select min(geography_id) from {MARTS}.dim_geography)",
    )


def test_bad_rows_of_the_day_fail_the_daily_tests(built_copy: Path) -> None:
    """Every restricted test fails on a bad row inside the window, and the merged row rules of
    fct_incidents say which column broke which rule."""
    plant(built_copy, newest=True)
    daily = dbt(built_copy, "test", select=TESTS_ONLY, extra_args=("--quiet", "--store-failures"))
    for prefix in (*RESTRICTED, *EVERY_ROW):
        assert status(daily, prefix) == "fail", prefix
    [rules] = [n for n in daily.nodes if n.name == "column_rules_fct_incidents"]
    assert rules.rows == 2 and rules.relation
    found = query(built_copy, f"select column_name, rule, failing_rows from {rules.relation}")
    assert sorted(found) == [
        ("incident_id", "expression_is_true: length( incident_id ) = 64", 1),
        ("parent_incident_type", "not_null", 1),
    ]


def test_bad_rows_of_a_late_load_fail_the_daily_tests(built_copy: Path) -> None:
    """Old :updated_at, newest load: the window's load branch (read on its own on DuckDB)."""
    plant(built_copy, newest=False, late=True)
    daily = dbt(built_copy, "test", select=TESTS_ONLY)
    for prefix in (*RESTRICTED, *EVERY_ROW):
        assert status(daily, prefix) == "fail", prefix


def test_bad_old_rows_fail_on_full_refresh(built_copy: Path) -> None:
    """Outside the window the daily scope does not read them again; --full-refresh does."""
    plant(built_copy, newest=False)
    daily = dbt(built_copy, "test", select=TESTS_ONLY)
    for prefix in RESTRICTED:
        assert status(daily, prefix) == "pass", prefix
    for prefix in EVERY_ROW:
        assert status(daily, prefix) == "fail", prefix
    full = full_refresh_statuses(built_copy)
    assert full == dict.fromkeys((*RESTRICTED, *EVERY_ROW), "fail")
