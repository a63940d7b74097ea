"""Write-audit-publish on BigQuery (table copy + re-pointed views), against the emulator."""

from __future__ import annotations

import pytest
from bq_emulator import Emulator

from ingestion.destinations import BigQueryTarget, bigquery_client
from orchestration.publish_bigquery import (
    PublishBlocked,
    prepare_audit,
    publish,
    rewrite_view_sql,
)

SCHEMAS = ("staging", "marts")


def _rows(client, sql: str) -> list[tuple]:
    return [tuple(r.values()) for r in client.query(sql).result()]


def _build_audit(client, target: BigQueryTarget, n: int) -> None:
    """What a dbt build leaves: a table in audit_staging, a view on it, a table and a view in
    audit_marts (the latter reads the former across datasets)."""
    p = target.project
    st, mt = target.dataset("audit_staging"), target.dataset("audit_marts")
    for ds in (st, mt):
        client.create_dataset(f"{p}.{ds}", exists_ok=True)
    client.query(
        f"create or replace table `{p}.{st}.stg_t` as "
        f"select x from unnest(generate_array(1, {n})) as x"
    ).result()
    client.query(
        f"create or replace view `{p}`.`{st}`.`stg_v` as "
        f"select x * 2 as y from `{p}`.`{st}`.`stg_t`"
    ).result()
    client.query(
        f"create or replace table `{p}.{mt}.fct` partition by d as "
        f"select date '2024-01-01' as d, sum(y) as total from `{p}.{st}.stg_v`"
    ).result()
    client.query(
        f"create or replace view `{p}.{mt}.v_total` as select total from `{p}.{mt}.fct`"
    ).result()


def test_publish_copies_tables_and_repoints_views(emulator: Emulator) -> None:
    target = BigQueryTarget(
        project=emulator.project, dataset_prefix="wap_", api_endpoint=emulator.endpoint
    )
    client = bigquery_client(target)
    _build_audit(client, target, 3)
    result = publish(client, target, schemas=SCHEMAS)
    assert (result.schemas, result.tables, result.views) == (list(SCHEMAS), 2, 2)
    p = target.project
    assert _rows(client, f"select total from `{p}.wap_marts.v_total`") == [(12,)]
    definitions = _rows(
        client, f"select view_definition from `{p}.wap_staging.INFORMATION_SCHEMA.VIEWS`"
    )
    assert "wap_staging" in definitions[0][0] and "audit" not in definitions[0][0]
    # The published view reads the published table, not the audit one.
    client.query(f"drop table `{p}.wap_audit_staging.stg_t`").result()
    assert _rows(client, f"select sum(y) from `{p}.wap_staging.stg_v`") == [(12,)]

    # A failing test blocks publication: the published datasets stay exactly as they were.
    _build_audit(client, target, 10)
    with pytest.raises(PublishBlocked, match="not_null_fct_total"):
        publish(client, target, failing_tests=["not_null_fct_total"], schemas=SCHEMAS)
    assert _rows(client, f"select total from `{p}.wap_marts.fct`") == [(12,)]

    # The next run starts from the published tables.
    assert prepare_audit(client, target, schemas=SCHEMAS) == 2
    assert _rows(client, f"select total from `{p}.wap_audit_marts.fct`") == [(12,)]
    tables = {t.table_id for t in client.list_tables(f"{p}.wap_audit_staging")}
    assert tables == {"stg_t"}  # views are dbt's to recreate


def test_rewrite_view_sql_only_touches_dataset_names() -> None:
    sql = (
        "select a.audit_marts from `p`.`x_audit_marts`.`t` a "
        "join `p.x_audit_staging.s` using (k) where note = 'x_audit_marts'"
    )
    renames = {"x_audit_marts": "x_marts", "x_audit_staging": "x_staging"}
    assert rewrite_view_sql(sql, renames) == (
        "select a.audit_marts from `p`.`x_marts`.`t` a "
        "join `p`.`x_staging`.`s` using (k) where note = 'x_audit_marts'"
    )


def test_unsafe_prefix_is_refused(emulator: Emulator) -> None:
    target = BigQueryTarget(
        project=emulator.project, dataset_prefix="x`; drop", api_endpoint=emulator.endpoint
    )
    with pytest.raises(ValueError, match="BLOTTER_BQ_DATASET_PREFIX"):
        publish(bigquery_client(target), target)
