"""What a run reads from dbt's parsed project (the manifest), so that dbt parses once per run.

- :func:`continued_tables`: the published tables a full build continues from (nodes
  materialized ``incremental`` or ``snapshot``); only these are copied into the audit schemas
  before the build (CONTRACTS16: the ML store in ``ml`` is added by the caller).
- :func:`published_manifest`: the audit build's manifest re-pointed at the published schemas,
  for the dbt calls that address them (``docs generate``, BigQuery's view recreation). dbt fixes
  every relation's schema at parse time from ``var('schema_prefix')``, so calling dbt with other
  vars would parse the whole project again (partial parsing restarts when vars change).
- :func:`repoint_catalog`: a DuckDB parse made against one file re-pointed at another file's
  catalog, so that every warehouse reuses one saved parse (``orchestration.dbt_invoke``).

Environment variables read here: none.
"""

from __future__ import annotations

import json
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


def _cataloged(manifest: Any) -> Iterable[Any]:
    """Every resource of ``manifest`` that may carry a catalog (``database``)."""
    for name in ("nodes", "sources", "unit_tests", "semantic_models", "saved_queries", "functions"):
        yield from (getattr(manifest, name, None) or {}).values()
    for disabled in (manifest.disabled or {}).values():
        yield from disabled


def repoint_catalog(manifest: Any, old: str, new: str) -> None:
    """Point every relation of ``manifest`` (in place) in catalog ``old`` at catalog ``new``.

    dbt fixes a relation's catalog at parse time (a DuckDB file's catalog is named after the
    file), in ``database`` and in the rendered, quoted ``relation_name``.

    Raises:
        RuntimeError: ``old`` is still named somewhere in the manifest (a place this function
            does not know): the manifest must not be used, it would address the wrong catalog.
    """
    if old == new:
        return
    quoted_old, quoted_new = f'"{old}".', f'"{new}".'
    for resource in _cataloged(manifest):
        if getattr(resource, "database", None) == old:
            resource.database = new
        relation = getattr(resource, "relation_name", None)
        if isinstance(relation, str) and relation.startswith(quoted_old):
            resource.relation_name = quoted_new + relation[len(quoted_old) :]
        config = getattr(resource, "config", None)
        if config is not None and getattr(config, "database", None) == old:
            config.database = new
    manifest.build_flat_graph()  # the `graph` context variable carries catalogs too
    # Whatever dbt may add in another version: no copy of the old name may remain anywhere.
    text = json.dumps([manifest.writable_manifest().to_dict(), manifest.flat_graph], default=str)
    if old in text:
        raise RuntimeError(f"dbt's parsed project still names catalog {old!r} after re-pointing")
