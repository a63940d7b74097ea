"""What a run reads from dbt's parsed project (the manifest), so that dbt parses once per run.

- :func:`continued_tables`: the published tables a full build continues from (nodes
  materialized ``incremental`` or ``snapshot``); only these are copied into the audit schemas
  before the build (CONTRACTS16: the ML store in ``ml`` is added by the caller).
- :func:`published_manifest`: the audit build's manifest re-pointed at the published schemas,
  for the dbt calls that address them (``docs generate``, BigQuery's view recreation). dbt fixes
  every relation's schema at parse time from ``var('schema_prefix')``, so calling dbt with other
  vars would parse the whole project again (partial parsing restarts when vars change).

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from engines.base import AUDIT_PREFIX, PUBLISHED_SCHEMAS

# Materializations whose next build starts from the table's current rows.
CONTINUED = ("incremental", "snapshot")


def continued_tables(manifest: Any, schemas: Sequence[str]) -> set[tuple[str, str]]:
    """``(published schema, table)`` of every node a build continues from, within ``schemas``.

    The schema is the node's custom schema (``+schema: marts``), which ``generate_schema_name``
    prefixes with the audit or dataset prefix; the table is the node's alias.
    """
    found = set()
    for node in manifest.nodes.values():
        config = node.config
        if getattr(config, "materialized", None) not in CONTINUED or not config.enabled:
            continue
        schema = (config.schema or "").strip()
        if schema in schemas:
            found.add((schema, node.alias))
    return found


def _published_schema(schema: str, prefix: str, names: Iterable[str]) -> str | None:
    """``marts`` for ``audit_marts`` (and ``p_marts`` for ``p_audit_marts``), else None."""
    for name in names:
        if schema.endswith(prefix + name):
            return schema[: -len(prefix + name)] + name
    return None


def _repoint(nodes: Iterable[Any], prefix: str) -> int:
    moved = 0
    for node in nodes:
        schema = getattr(node, "schema", None)
        # A node's custom schema (``+schema``, e.g. a test's store-failures schema) is what
        # ``generate_schema_name`` prefixed; a source's schema is one of the published ones.
        custom = getattr(getattr(node, "config", None), "schema", None)
        names = (*PUBLISHED_SCHEMAS, *([custom.strip()] if isinstance(custom, str) else []))
        new = _published_schema(schema, prefix, names) if isinstance(schema, str) else None
        if new is None:
            continue
        relation = getattr(node, "relation_name", None)
        if relation:
            for quote in ('"', "`"):  # DuckDB and BigQuery quoting of the schema part
                relation = relation.replace(f"{quote}{schema}{quote}", f"{quote}{new}{quote}")
            node.relation_name = relation
        node.schema = new
        moved += 1
    return moved


def published_manifest(manifest: Any, prefix: str = AUDIT_PREFIX) -> Any:
    """A copy of ``manifest`` whose relations in ``<prefix><schema>`` point at ``<schema>``.

    Models, snapshots, seeds, tests and sources (the ML sources are prefixed too) move; the
    audit manifest itself is left as it was.

    Raises:
        RuntimeError: no relation lives in an audit schema (the manifest was not parsed with
            ``schema_prefix`` = ``prefix``).
    """
    published = manifest.deepcopy()  # dbt's own copy: nodes, sources, macros, fresh lookups
    moved = _repoint(published.nodes.values(), prefix)
    moved += _repoint(published.sources.values(), prefix)
    _repoint(getattr(published, "unit_tests", {}).values(), prefix)
    if not moved:
        raise RuntimeError(f"dbt's manifest has no relation in a {prefix}* schema to re-point")
    published.build_flat_graph()  # the `graph` context variable carries schemas too
    return published
