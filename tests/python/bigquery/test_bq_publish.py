"""Write-audit-publish on BigQuery (copy jobs for tables, views recreated), against the emulator."""

from __future__ import annotations

import pytest
from bq_emulator import Emulator

from engines.base import PublishBlocked
from engines.bigquery.publish import prepare_audit, publish
from engines.bigquery.target import BigQueryTarget, bigquery_client

SCHEMAS = ("staging", "marts")


def _rows(client, sql: str) -> list[tuple]:
    return [tuple(r.values()) for r in client.query(sql).result()]


def _views(client, target: BigQueryTarget, prefix: str) -> None:
    """What dbt's view models are: one per dataset, the marts one reading across datasets."""
    p, st, mt = target.project, target.dataset(prefix + "staging"), target.dataset(prefix + "marts")
    client.query(
        f"create or replace view `{p}`.`{st}`.`stg_v` as "
        f"select x * 2 as y, 'it''s' as note from `{p}`.`{st}`.`stg_t`"
    ).result()
    client.query(
        f"create or replace view `{p}`.`{mt}`.`v_total` as select total from `{p}`.`{mt}`.`fct`"
    ).result()


def _build_audit(client, target: BigQueryTarget, n: int) -> None:
    """What a dbt build leaves in audit_staging and audit_marts: tables and views."""
    p = target.project
    st, mt = target.dataset("audit_staging"), target.dataset("audit_marts")
    for ds in (st, mt):
        client.create_dataset(f"{p}.{ds}", exists_ok=True)
    client.query(
        f"create or replace table `{p}.{st}.stg_t` as "
        f"select x from unnest(generate_array(1, {n})) as x"
    ).result()
    client.query(f"create or replace table `{p}.{st}.dropped_model` as select 1 as x").result()
    client.query(
        f"create or replace table `{p}.{mt}.fct` partition by d as "
        f"select date '2024-01-01' as d, sum(x * 2) as total from `{p}.{st}.stg_t`"
    ).result()
    _views(client, target, "audit_")


def test_publish_copies_tables_and_recreates_views(emulator: Emulator) -> None:
    target = BigQueryTarget(
        project=emulator.project, dataset_prefix="wap_", api_endpoint=emulator.endpoint
    )
    client = bigquery_client(target)
    p = target.project
    _build_audit(client, target, 3)

    # Views but no way to recreate them: refused before anything is published.
    with pytest.raises(RuntimeError, match="recreate_views"):
        publish(client, target, schemas=SCHEMAS)
    assert not any(d.dataset_id == "wap_marts" for d in client.list_datasets())

    result = publish(
        client, target, schemas=SCHEMAS, recreate_views=lambda: _views(client, target, "")
    )
    assert (result.schemas, result.tables, result.views) == (list(SCHEMAS), 3, 2)
    assert _rows(client, f"select total from `{p}.wap_marts.v_total`") == [(12,)]
    # The audit datasets are gone (issue 12 item 13), and the published view still reads:
    # it reads the published table, not the audit one.
    datasets = {d.dataset_id for d in client.list_datasets()}
    assert {"wap_staging", "wap_marts"} <= datasets and not {
        d for d in datasets if d.startswith("wap_audit_")
    }
    assert _rows(client, f"select sum(y) from `{p}.wap_staging.stg_v`") == [(12,)]

    # A failing test blocks publication: the published datasets stay exactly as they were.
    _build_audit(client, target, 10)
    with pytest.raises(PublishBlocked, match="not_null_fct_total"):
        publish(client, target, failing_tests=["not_null_fct_total"], schemas=SCHEMAS)
    assert _rows(client, f"select total from `{p}.wap_marts.fct`") == [(12,)]

    # A model removed from the project disappears from the published dataset on the next run.
    client.query(f"drop table `{p}.wap_audit_staging.dropped_model`").result()
    publish(client, target, schemas=SCHEMAS, recreate_views=lambda: _views(client, target, ""))
    assert _rows(client, f"select total from `{p}.wap_marts.fct`") == [(110,)]
    published = {t.table_id for t in client.list_tables(f"{p}.wap_staging")}
    assert published == {"stg_t", "stg_v"}

    # The next run starts from the published tables (views are dbt's to recreate).
    assert prepare_audit(client, target, schemas=SCHEMAS) == 2
    assert _rows(client, f"select total from `{p}.wap_audit_marts.fct`") == [(110,)]
    assert {t.table_id for t in client.list_tables(f"{p}.wap_audit_staging")} == {"stg_t"}


def test_unsafe_prefix_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="BLOTTER_BQ_DATASET_PREFIX"):
        BigQueryTarget(
            project=emulator.project, dataset_prefix="x`; drop", api_endpoint=emulator.endpoint
        )
