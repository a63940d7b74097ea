"""Write-audit-publish on BigQuery: audit datasets are published by table copy.

dbt and ``ml/`` build into ``<prefix>audit_staging`` … ``<prefix>audit_ml`` (dbt var
``schema_prefix='audit_'``; ``<prefix>`` is ``BLOTTER_BQ_DATASET_PREFIX``). Only when every
error-severity test passed does :func:`publish` replace the published datasets:

- tables by copy jobs with ``WRITE_TRUNCATE`` (free of query cost; each table is replaced
  atomically, partitioning and clustering come along). All copies start together and are
  awaited together, so readers can see a mix of the old and new run only for the seconds the
  copies take: BigQuery has no multi-table atomic DDL swap;
- views by ``CREATE OR REPLACE VIEW`` with their definition re-pointed from the audit datasets
  to the published ones, referenced views first;
- objects no longer built are dropped from the published dataset.

Raw landing (``<prefix>raw``) is never touched. Same contract as ``orchestration.publish``.

Environment variables read here: none (the target is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ingestion.destinations import BigQueryTarget
from orchestration.publish import (
    AUDIT_PREFIX,
    PUBLISHED_SCHEMAS,
    PublishBlocked,
    PublishResult,
)
from orchestration.settings import Settings

_IDENT = re.compile(r"^[A-Za-z0-9_]*$")


def bigquery_target(settings: Settings) -> BigQueryTarget:
    """The prod target's BigQuery project from the settings (one-line error when incomplete)."""
    return BigQueryTarget(
        project=settings.gcp_project or "",
        location=settings.bq_location,
        dataset_prefix=settings.bq_dataset_prefix,
        auth_method=settings.bq_auth_method,
        keyfile=settings.bq_keyfile,
        api_endpoint=settings.bq_api_endpoint,
    )


__all__ = [
    "PublishBlocked",
    "PublishResult",
    "bigquery_target",
    "prepare_audit",
    "publish",
    "rewrite_view_sql",
]


def _checked(target: BigQueryTarget, prefix: str) -> None:
    # Dataset names end up in DDL text; only code constants and a validated prefix go there.
    for value, name in ((target.dataset_prefix, "BLOTTER_BQ_DATASET_PREFIX"), (prefix, "prefix")):
        if not _IDENT.match(value):
            raise ValueError(f"{name} {value!r} may only hold letters, digits and underscores")
    if not re.match(r"^[A-Za-z0-9.:_-]+$", target.project):
        raise ValueError(f"BLOTTER_GCP_PROJECT {target.project!r} is not a valid project id")


def _objects(client: Any, project: str, dataset: str) -> tuple[list[str], dict[str, str]]:
    """(base table names, {view name: view SQL}) of a dataset; empty when it does not exist."""
    from google.api_core.exceptions import NotFound

    try:
        listed = list(client.list_tables(f"{project}.{dataset}"))
    except NotFound:
        return [], {}
    tables = sorted(t.table_id for t in listed if t.table_type == "TABLE")
    views: dict[str, str] = {}
    if any(t.table_type == "VIEW" for t in listed):
        info = f"`{project}.{dataset}.INFORMATION_SCHEMA.VIEWS`"
        sql = f"select table_name, view_definition from {info}"
        views = {row[0]: row[1] for row in client.query(sql).result()}
    return tables, views


def rewrite_view_sql(sql: str, audit_datasets: dict[str, str]) -> str:
    """Point a view definition at the published datasets instead of the audit ones.

    Args:
        sql: the view's SELECT, e.g. ``select * from `p`.`audit_staging`.`t```.
        audit_datasets: audit dataset name → published dataset name.
    """
    names = "|".join(re.escape(a) for a in sorted(audit_datasets, key=len, reverse=True))
    # A dataset name sits between a backtick or dot and a backtick or dot.
    pattern = re.compile(rf"(?<=[`.])({names})(?=[`.])")
    renamed = pattern.sub(lambda m: audit_datasets[m.group(1)], sql)
    # `p.ds.t` -> `p`.`ds`.`t`: the same path; the emulator's naive check for BigQuery ML
    # functions would otherwise take `p.ml.forecasts` for ML.FORECAST.
    return re.sub(
        r"`([^`\s]+\.[^`\s]+)`",
        lambda m: ".".join(f"`{x}`" for x in m.group(1).split(".")),
        renamed,
    )


def _view_order(views: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    """Referenced views first (BigQuery checks a view's query when it is created)."""

    def refs(key: tuple[str, str]) -> set[tuple[str, str]]:
        body = views[key]
        return {
            other
            for other in views
            if other != key
            and re.search(rf"`?{re.escape(other[0])}`?\.`?{re.escape(other[1])}`?(?![\w])", body)
        }

    deps = {key: refs(key) for key in views}
    ordered: list[tuple[str, str]] = []
    pending = sorted(views)
    while pending:
        ready = [k for k in pending if deps[k] <= set(ordered)] or pending[:1]
        for key in ready:
            ordered.append(key)
            pending.remove(key)
    return ordered


def _ensure_dataset(client: Any, target: BigQueryTarget, dataset: str) -> None:
    from google.cloud import bigquery

    ds = bigquery.Dataset(f"{target.project}.{dataset}")
    ds.location = target.location
    client.create_dataset(ds, exists_ok=True)


def _copy_all(client: Any, pairs: list[tuple[str, str]]) -> None:
    """Start every copy job, then wait for all (each replaces its destination atomically)."""
    from google.cloud import bigquery

    config = bigquery.CopyJobConfig(write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
    jobs = [client.copy_table(src, dst, job_config=config) for src, dst in pairs]
    for job in jobs:
        job.result()


def prepare_audit(
    client: Any,
    target: BigQueryTarget,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefix: str = AUDIT_PREFIX,
) -> int:
    """Reset the audit datasets to copies of the published tables before a run builds into them.

    Incremental models, snapshots and the ML registry then continue from the last *published*
    state. Views are not copied: dbt recreates every view it owns.

    Returns:
        The number of tables copied.
    """
    _checked(target, prefix)
    pairs: list[tuple[str, str]] = []
    for schema in schemas:
        audit, published = target.dataset(prefix + schema), target.dataset(schema)
        client.delete_dataset(f"{target.project}.{audit}", delete_contents=True, not_found_ok=True)
        tables, _ = _objects(client, target.project, published)
        if not tables:
            continue
        _ensure_dataset(client, target, audit)
        pairs += [
            (f"{target.project}.{published}.{t}", f"{target.project}.{audit}.{t}") for t in tables
        ]
    _copy_all(client, pairs)
    return len(pairs)


def publish(
    client: Any,
    target: BigQueryTarget,
    failing_tests: Sequence[str] = (),
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefix: str = AUDIT_PREFIX,
    on_schema: Callable[[str], None] | None = None,
) -> PublishResult:
    """Replace each published dataset's objects with its audit copy.

    Raises:
        PublishBlocked: when ``failing_tests`` is not empty (nothing is touched).
        RuntimeError: when no audit dataset exists (nothing was built).
    """
    if failing_tests:
        raise PublishBlocked(failing_tests)
    _checked(target, prefix)
    p = target.project
    built = {s: _objects(client, p, target.dataset(prefix + s)) for s in schemas}
    todo = [s for s in schemas if built[s][0] or built[s][1]]
    if not todo:
        raise RuntimeError(f"no {target.dataset(prefix)}* dataset to publish: did the build run?")
    renames = {target.dataset(prefix + s): target.dataset(s) for s in todo}
    result = PublishResult()
    pairs: list[tuple[str, str]] = []
    views: dict[tuple[str, str], str] = {}
    stale: list[str] = []
    for schema in todo:
        audit, published = target.dataset(prefix + schema), target.dataset(schema)
        tables, audit_views = built[schema]
        _ensure_dataset(client, target, published)
        old_tables, old_views = _objects(client, p, published)
        # A view that became a table (or back) must go first: copy and DDL do not change kinds.
        stale += [f"{p}.{published}.{n}" for n in old_views if n not in audit_views]
        stale += [f"{p}.{published}.{n}" for n in old_tables if n not in tables]
        pairs += [(f"{p}.{audit}.{t}", f"{p}.{published}.{t}") for t in tables]
        for name, sql in audit_views.items():
            views[(published, name)] = rewrite_view_sql(sql, renames)
        result.tables += len(tables)
        result.schemas.append(schema)
    for ref in stale:
        client.delete_table(ref, not_found_ok=True)
    _copy_all(client, pairs)
    for published, name in _view_order(views):
        client.query(
            f"create or replace view `{p}.{published}.{name}` as {views[(published, name)]}"
        ).result()
    result.views = len(views)
    for schema in result.schemas:
        if on_schema is not None:
            on_schema(schema)
    return result
