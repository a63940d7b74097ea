"""Issue 16: the BigQuery bytes-billed estimate of a dbt build (``tests/bench/bq_bytes.py``).

A tiny warehouse whose sizes are known by hand: strings bill 2 + their UTF-8 bytes, integers
and dates 8, NULL nothing, each referenced table at least 10 MB; views cost nothing to create;
a merge also reads its target; only per-incident tables grow with the history.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.bench.bq_bytes import MIN_PER_TABLE, estimate

ROWS = 1_000_000  # big enough that every scan of fct exceeds the 10 MB minimum


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("bq_bytes")
    db = base / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw; create schema marts")
        # name: 'é' + 9 ASCII = 11 bytes (+2); every 4th name NULL (0 bytes).
        con.execute(
            "create table raw.incidents as select i as n, "
            "case when i % 4 = 0 then null else 'é' || lpad(i::varchar, 9, '0') end as name, "
            "date '2020-01-01' + cast(i % 3 as integer) as d from range(?) t(i)",
            [ROWS],
        )
        con.execute("create table marts.fct as select n as incident_id, d from raw.incidents")
        con.execute(
            "create table marts.counts as select d, count(*) as c from raw.incidents group by d"
        )
        con.execute("create view marts.v as select d from marts.counts")
    target = base / "target"
    target.mkdir()
    node = 'select n, name from "w"."raw"."incidents" where d is not null'
    results = [
        {
            "unique_id": "model.p.fct",
            "status": "success",
            "compiled_code": node,
            "relation_name": '"w"."marts"."fct"',
        },
        {
            "unique_id": "model.p.v",
            "status": "success",
            "compiled_code": "select d from marts.counts",
            "relation_name": '"w"."marts"."v"',
        },
        {
            "unique_id": "test.p.small",
            "status": "pass",
            "compiled_code": "select c from marts.counts",
            "relation_name": None,
        },
        {
            "unique_id": "unit_test.p.u",
            "status": "pass",
            "compiled_code": "select 1",
            "relation_name": None,
        },
        {
            "unique_id": "model.p.skipped",
            "status": "skipped",
            "compiled_code": node,
            "relation_name": None,
        },
    ]
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    manifest = {
        "nodes": {
            "model.p.fct": {"config": {"materialized": "incremental"}},
            "model.p.v": {"config": {"materialized": "view"}},
        }
    }
    (target / "manifest.json").write_text(json.dumps(manifest))
    return db, target


def test_bytes_follow_bigquery_s_billing_rules(build: tuple[Path, Path]) -> None:
    est = estimate(*build)
    assert est.incidents == ROWS
    billed = est.billed()
    assert set(billed) == {"model.p.fct", "model.p.v", "test.p.small"}
    names = ROWS - ROWS // 4
    source = ROWS * 8 + names * (2 + 11) + ROWS * 8  # n, name, and d (the filter column)
    target = ROWS * 8 + ROWS * 8  # the merge reads the whole target: incident_id, d
    assert billed["model.p.fct"] == source + target
    assert billed["model.p.v"] == 0
    assert billed["test.p.small"] == MIN_PER_TABLE


def test_only_per_incident_tables_grow_with_the_history(build: tuple[Path, Path]) -> None:
    est = estimate(*build)
    tenfold = est.billed(ROWS * 10)
    assert tenfold["model.p.fct"] == 10 * est.billed()["model.p.fct"]
    assert tenfold["test.p.small"] == MIN_PER_TABLE
