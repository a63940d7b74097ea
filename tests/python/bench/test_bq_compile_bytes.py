"""Issue 16: the bytes of queries dbt's macros run while compiling (``bq_compile_bytes``).

A tiny warehouse and a hand-written dbt JSON log: only the compile-time selects are priced
(a node's own query is already in ``bq_bytes``; catalog reads, DDL, unit tests and dbt's test
wrapper are not billed compile work), by BigQuery's rules, and labelled by what they are for.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.bench.bq_bytes import MIN_PER_TABLE
from tests.bench.bq_compile_bytes import billed, compile_time_scans

ROWS = 2_000_000  # every scan of raw.incidents exceeds the 10 MB minimum
OWN = 'select incident_id from "w"."raw"."incidents" where d is not null'


def _event(node: str, sql: str, name: str = "SQLQuery") -> str:
    data = {"sql": f'/* {{"app": "dbt"}} */\n{sql}', "node_info": {"unique_id": node}}
    return json.dumps({"info": {"name": name}, "data": data})


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("bq_compile_bytes")
    db = base / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.incidents as select i as incident_id, "
            "timestamp '2020-01-01' + to_seconds(i) as updated_at, "
            "date '2020-01-01' as d from range(?) t(i)",
            [ROWS],
        )
        con.execute("create table raw.source_profile as select '{}' as profile_json")
    target = base / "target"
    target.mkdir()
    results = [{"unique_id": "model.p.fct", "compiled_code": OWN}]
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    log = base / "dbt.log"
    log.write_text(
        "\n".join(
            [
                _event("model.p.fct", OWN),  # the node's own query
                _event("test.p.t", "select max(updated_at) from raw.incidents"),
                _event("test.p.t", "select profile_json from raw.source_profile"),
                _event("test.p.t", f"select count(*) from ({OWN}) dbt_internal_test"),
                _event("unit_test.p.u", "select max(updated_at) from raw.incidents"),
                _event("model.p.fct", "create table x as select 1"),
                _event("model.p.fct", "select column_name, column_type as data_type from t"),
                _event("test.p.t", "select max(d) from raw.incidents", name="SQLCommit"),
            ]
        )
        + "\n"
    )
    return db, target, log


def test_only_compile_time_selects_are_priced(build: tuple[Path, Path, Path]) -> None:
    scans, skipped = compile_time_scans(*build)
    assert skipped == 0
    by_kind = billed(scans)
    assert by_kind == {
        "window: newest :updated_at": ROWS * 8,  # one timestamp column of every incident
        "source profile": MIN_PER_TABLE,  # a one-row table still bills 10 MB
    }


def test_per_incident_scans_grow_with_the_history(build: tuple[Path, Path, Path]) -> None:
    scans, _ = compile_time_scans(*build)
    tenfold = billed(scans, 10)
    assert tenfold["window: newest :updated_at"] == 10 * ROWS * 8
    assert tenfold["source profile"] == MIN_PER_TABLE
