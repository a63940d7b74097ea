"""Write-audit-publish on BigQuery: audit datasets are published by table copy.

dbt and ``ml/`` build into ``<prefix>audit_staging`` … ``<prefix>audit_ml`` (dbt var
``schema_prefix='audit_'``; ``<prefix>`` is ``BLOTTER_BQ_DATASET_PREFIX``). Only when every
error-severity test passed does :func:`publish` replace the published datasets:

- tables by copy jobs with ``WRITE_TRUNCATE`` (free of query cost; each table is replaced
  atomically, partitioning and clustering come along). All copies start together and are
  awaited together, so readers can see a mix of the old and new run only for the seconds the
  copies take: BigQuery has no multi-table atomic DDL swap;
- views are code, not data: the caller recreates them in the published datasets (orchestration
  runs dbt on the view models without the audit prefix), after the tables are in place. Reading
  a view's SQL back from the warehouse is not portable (the emulator cannot return definitions
  that contain quotes);
- objects no longer built are dropped from the published dataset;
- the audit datasets are deleted once everything is published, so readers see each table once
  (after a failed run they stay for inspection; the next run resets them).

Raw landing (``<prefix>raw``) is never touched. Same contract as ``engines.duckdb.publish``.

Environment variables read here: none (the target is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

from engines.base import AUDIT_PREFIX, PUBLISHED_SCHEMAS, PublishBlocked, PublishResult
from engines.bigquery.target import BigQueryTarget

_IDENT = re.compile(r"^[A-Za-z0-9_]*$")


__all__ = [
    "PublishBlocked",
    "PublishResult",
    "drop_audit",
    "prepare_audit",
    "publish",
]


def _checked(target: BigQueryTarget, prefix: str) -> None:
    # Dataset names end up in DDL text; only code constants and a validated prefix go there.
    for value, name in ((target.dataset_prefix, "BLOTTER_BQ_DATASET_PREFIX"), (prefix, "prefix")):
        if not _IDENT.match(value):
            raise ValueError(f"{name} {value!r} may only hold letters, digits and underscores")
    if not re.match(r"^[A-Za-z0-9.:_-]+$", target.project):
        raise ValueError(f"BLOTTER_GCP_PROJECT {target.project!r} is not a valid project id")


def _objects(client: Any, project: str, dataset: str) -> tuple[list[str], list[str]]:
    """(base table names, view names) of a dataset; empty when it does not exist."""
    from google.api_core.exceptions import NotFound

    try:
        listed = list(client.list_tables(f"{project}.{dataset}"))
    except NotFound:
        return [], []
    tables = sorted(t.table_id for t in listed if t.table_type == "TABLE")
    views = sorted(t.table_id for t in listed if t.table_type == "VIEW")
    return tables, views


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
    tables: Collection[tuple[str, str]] | None = None,
) -> int:
    """Reset the audit datasets, seeded with copies of the published tables a build continues from.

    Incremental models, snapshots and the ML registry then continue from the last *published*
    state. Views are not copied: dbt recreates every view it owns.

    Args:
        client: google-cloud-bigquery client of the target's project.
        target: the BigQuery project and dataset prefix.
        schemas: published schemas whose audit datasets are reset (code constants).
        prefix: audit prefix.
        tables: the ``(schema, table)`` pairs to copy (read from dbt's manifest); absent ones
            are skipped. None copies every published table of ``schemas``.

    Returns:
        The number of tables copied.
    """
    _checked(target, prefix)
    wanted = None if tables is None else {(s, t) for s, t in tables}
    pairs: list[tuple[str, str]] = []
    for schema in schemas:
        audit, published = target.dataset(prefix + schema), target.dataset(schema)
        client.delete_dataset(f"{target.project}.{audit}", delete_contents=True, not_found_ok=True)
        found, _ = _objects(client, target.project, published)
        seeded = [t for t in found if wanted is None or (schema, t) in wanted]
        if not seeded:
            continue
        _ensure_dataset(client, target, audit)
        pairs += [
            (f"{target.project}.{published}.{t}", f"{target.project}.{audit}.{t}") for t in seeded
        ]
    _copy_all(client, pairs)
    return len(pairs)


def drop_audit(
    client: Any,
    target: BigQueryTarget,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefix: str = AUDIT_PREFIX,
) -> None:
    """Delete the audit datasets of ``schemas`` (a command that stopped before building)."""
    _checked(target, prefix)
    for schema in schemas:
        client.delete_dataset(
            f"{target.project}.{target.dataset(prefix + schema)}",
            delete_contents=True,
            not_found_ok=True,
        )


def publish(
    client: Any,
    target: BigQueryTarget,
    failing_tests: Sequence[str] = (),
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    prefix: str = AUDIT_PREFIX,
    recreate_views: Callable[[], None] | None = None,
    on_schema: Callable[[str], None] | None = None,
) -> PublishResult:
    """Replace each published dataset's objects with its audit copy.

    Args:
        client: google-cloud-bigquery client of the target's project.
        target: the BigQuery project and dataset prefix.
        failing_tests: names of failed error-severity tests; any → nothing is published.
        schemas: published schema names (code constants, never data).
        prefix: audit prefix.
        recreate_views: creates the views in the published datasets (e.g. dbt run of the view
            models without the audit prefix); required when the audit datasets hold views.
        on_schema: called after each schema is published (progress).

    Raises:
        PublishBlocked: when ``failing_tests`` is not empty (nothing is touched).
        RuntimeError: when no audit dataset exists (nothing was built), or views were built but
            there is no ``recreate_views`` (checked before anything is touched).
    """
    if failing_tests:
        raise PublishBlocked(failing_tests)
    _checked(target, prefix)
    p = target.project
    built = {s: _objects(client, p, target.dataset(prefix + s)) for s in schemas}
    todo = [s for s in schemas if built[s][0] or built[s][1]]
    if not todo:
        raise RuntimeError(f"no {target.dataset(prefix)}* dataset to publish: did the build run?")
    if recreate_views is None and any(built[s][1] for s in todo):
        raise RuntimeError("the audit datasets hold views: publish needs recreate_views")
    result = PublishResult()
    pairs: list[tuple[str, str]] = []
    stale: list[str] = []
    for schema in todo:
        audit, published = target.dataset(prefix + schema), target.dataset(schema)
        tables, views = built[schema]
        _ensure_dataset(client, target, published)
        old_tables, old_views = _objects(client, p, published)
        # Objects no longer built, or of another kind now (copy jobs do not replace a view).
        stale += [f"{p}.{published}.{n}" for n in old_views if n not in views]
        stale += [f"{p}.{published}.{n}" for n in old_tables if n not in tables]
        pairs += [(f"{p}.{audit}.{t}", f"{p}.{published}.{t}") for t in tables]
        result.tables += len(tables)
        result.views += len(views)
        result.schemas.append(schema)
    for ref in stale:
        client.delete_table(ref, not_found_ok=True)
    _copy_all(client, pairs)
    if result.views and recreate_views is not None:
        recreate_views()
    drop_audit(client, target, schemas, prefix)
    for schema in result.schemas:
        if on_schema is not None:
            on_schema(schema)
    return result
