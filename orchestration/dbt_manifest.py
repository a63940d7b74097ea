"""What a run reads from dbt's parsed project (the manifest), so that dbt parses once per run.

- :func:`continued_tables`: the published tables a full build continues from (nodes
  materialized ``incremental`` or ``snapshot``); only these are copied into the audit schemas
  before the build (CONTRACTS16: the ML store in ``ml`` is added by the caller).
- :func:`levelled_tables`: the snapshots among them, with what identifies their rows, so that
  DuckDB levels a kept copy with the live one instead of copying it (w33).
- :func:`published_manifest`: the audit build's manifest re-pointed at the published schemas,
  for the dbt calls that address them (``docs generate``, BigQuery's view recreation). dbt fixes
  every relation's schema at parse time from ``var('schema_prefix')``, so calling dbt with other
  vars would parse the whole project again (partial parsing restarts when vars change).
- :func:`build_manifest`: the same parse re-pointed at the schemas this command builds in
  (DuckDB's blue/green colours, ``engines.duckdb.colours``), again without parsing.
- :func:`repoint_catalog`: a DuckDB parse made against one file re-pointed at another file's
  catalog, so that every warehouse reuses one saved parse (``orchestration.dbt_invoke``).

Environment variables read here: none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engines.base import AUDIT_PREFIX, PUBLISHED_SCHEMAS

# Materializations whose next build starts from the table's current rows.
CONTINUED = ("incremental", "snapshot")

# Continued nodes whose new work is computed relative to their own rows only ({{ this }}: the
# newest load id or :updated_at merged, the daily counts published), and whose incremental
# result equals a full rebuild: built on a state one run older, they catch up on both runs and
# end as when continued from a copy of the newer state (issue 16 P2, w32, reviewed in their
# SQL and macros). Not here, so always copied: snap_incidents, whose history depends on
# which runs saw a record (two revisions on two days are two versions; one catch-up build sees
# only the last), and any node added later until it is reviewed.
CATCH_UP = frozenset(
    {
        "int_incidents_deduplicated",
        "fct_incidents",
        "fct_incident_areas",
        "fct_incident_counts",
        "fct_incident_counts_by_type",
        # m33: the counts' record of what they counted; its rows follow its own newest load.
        "int_incidents_counted",
    }
)


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


def catch_up_tables(manifest: Any, schemas: Sequence[str]) -> set[tuple[str, str]]:
    """The :func:`continued_tables` that may catch up from an older published state
    (:data:`CATCH_UP`, by alias)."""
    return {(s, t) for s, t in continued_tables(manifest, schemas) if t in CATCH_UP}


def levelled_tables(
    manifest: Any, schemas: Sequence[str]
) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """The snapshots among :func:`continued_tables`, each with its unique key and the columns
    that identify a row: the version id and its end (``dbt_scd_id``, ``dbt_valid_to``, or
    the names ``snapshot_meta_column_names`` gives). A snapshot inserts versions and only ever
    updates their end, so a kept copy one run behind is made level with the live copy by moving
    the records whose versions differ (``engines.duckdb.level``). A snapshot keyed on several
    columns is left out (copied)."""
    found: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for node in manifest.nodes.values():
        config = node.config
        if getattr(config, "materialized", None) != "snapshot" or not config.enabled:
            continue
        schema, key = (config.schema or "").strip(), config.unique_key
        if schema in schemas and isinstance(key, str) and key.isidentifier():
            names = config.snapshot_meta_column_names
            found[(schema, node.alias)] = (
                key,
                (names.dbt_scd_id or "dbt_scd_id", names.dbt_valid_to or "dbt_valid_to"),
            )
    return found


def code_basis(manifest: Any, extra: Iterable[str] = ()) -> str:
    """A digest of what dbt compiles the build from: every node's file checksum and config,
    every macro, plus ``extra`` (the run's vars, the key's fingerprint). Equal digests: the same
    code would compute the same rows from the same data."""
    parts = sorted(
        f"{uid} {getattr(getattr(node, 'checksum', None), 'checksum', '')} "
        f"{json.dumps(node.config.to_dict(), sort_keys=True, default=str)}"
        for uid, node in manifest.nodes.items()
    )
    parts += sorted(f"{uid} {macro.macro_sql}" for uid, macro in manifest.macros.items())
    return hashlib.sha256("\n".join([*parts, *extra]).encode()).hexdigest()


def _split(
    schema: str, prefixes: Mapping[str, str], names: Iterable[str]
) -> tuple[str, str] | None:
    """``("", "marts")`` for ``audit_marts`` (``("p_", "marts")`` for ``p_audit_marts``) when
    ``marts`` is built under ``audit_`` (``prefixes``, default ``audit_``), else None."""
    for name in names:
        built = (prefixes[name] if name in prefixes else AUDIT_PREFIX) + name
        if schema.endswith(built):
            return schema[: -len(built)], name
    return None


def _repoint(nodes: Iterable[Any], old: Mapping[str, str], new: Mapping[str, str]) -> int:
    """Move relations from ``<old prefix><schema>`` to ``<new prefix><schema>`` (per schema;
    a schema absent from ``new`` stays where it is)."""
    moved = 0
    for node in nodes:
        schema = getattr(node, "schema", None)
        # A node's custom schema (``+schema``, e.g. a test's store-failures schema) is what
        # ``generate_schema_name`` prefixed; a source's schema is one of the published ones.
        custom = getattr(getattr(node, "config", None), "schema", None)
        names = (*PUBLISHED_SCHEMAS, *([custom.strip()] if isinstance(custom, str) else []))
        found = _split(schema, old, names) if isinstance(schema, str) else None
        if found is None or found[1] not in new:
            continue
        target = found[0] + new[found[1]] + found[1]
        relation = getattr(node, "relation_name", None)
        if relation:
            for quote in ('"', "`"):  # DuckDB and BigQuery quoting of the schema part
                relation = relation.replace(f"{quote}{schema}{quote}", f"{quote}{target}{quote}")
            node.relation_name = relation
        node.schema = target
        moved += 1
    return moved


def _repoint_all(manifest: Any, old: Mapping[str, str], new: Mapping[str, str]) -> int:
    moved = _repoint(manifest.nodes.values(), old, new)
    moved += _repoint(manifest.sources.values(), old, new)
    _repoint(getattr(manifest, "unit_tests", {}).values(), old, new)
    manifest.build_flat_graph()  # the `graph` context variable carries schemas too
    return moved


class _Everything(dict):
    """``{any schema: value}``: custom schemas (a test's) move with the published ones."""

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return self.value


def published_manifest(manifest: Any, prefix: str | Mapping[str, str] = AUDIT_PREFIX) -> Any:
    """A copy of ``manifest`` whose relations in ``<prefix><schema>`` point at ``<schema>``.

    ``prefix``: the one every schema was built under, or ``{schema: prefix}`` (blue/green:
    :func:`build_manifest`'s; a schema absent from it is under ``audit_``). Models,
    snapshots, seeds, tests and sources (the ML sources are prefixed too) move; ``manifest``
    itself is left as it was.

    Raises:
        RuntimeError: no relation lives in a build schema (the manifest was not parsed or
            re-pointed with ``prefix``).
    """
    old = _Everything(prefix) if isinstance(prefix, str) else dict(prefix)
    published = manifest.deepcopy()  # dbt's own copy: nodes, sources, macros, fresh lookups
    if not _repoint_all(published, old, _Everything("")):
        where = f"{prefix}*" if isinstance(prefix, str) else "build"
        raise RuntimeError(f"dbt's manifest has no relation in a {where} schema to re-point")
    return published


def build_manifest(manifest: Any, prefixes: Mapping[str, str]) -> Any:
    """``manifest`` (parsed with ``schema_prefix='audit_'``) re-pointed IN PLACE so that each
    published schema's relations are built under ``prefixes[schema]`` (DuckDB's colours).

    Custom schemas that are not published (a test's) stay under ``audit_``.

    Raises:
        RuntimeError: a relation is still in ``audit_<schema>`` of a re-pointed schema (a place
            this module does not know): the build would write where nothing is published.
    """
    moving = {s: p for s, p in prefixes.items() if p != AUDIT_PREFIX}
    if not moving:
        return manifest
    _repoint_all(manifest, {}, moving)
    left = sorted(
        {
            str(resource.schema)
            for resource in (*manifest.nodes.values(), *manifest.sources.values())
            if _split(str(getattr(resource, "schema", "")), {}, moving) is not None
        }
    )
    if left:
        raise RuntimeError(f"dbt's manifest still builds in {', '.join(left)} after re-pointing")
    return manifest


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
