"""Issue 16 P2: one audit parse serves builds in any mix of colours (no re-parse per colour)."""

from __future__ import annotations

from typing import Any

from test_dbt_manifest import parsed  # noqa: F401  (the module-scoped parse fixture)

from engines.base import PUBLISHED_SCHEMAS
from orchestration.dbt_manifest import build_manifest, published_manifest

# After `blotter forecast`: marts and ml flipped, the other schemas not.
MIXED = {
    "staging": "green_",
    "intermediate": "green_",
    "marts": "blue_",
    "ml": "blue_",
    "snapshots": "green_",
}


def _published_names(manifest: Any) -> dict[str, str]:
    """``{unique_id: published schema}`` of every node and source an audit parse puts in an
    ``audit_<published schema>``."""
    return {
        r.unique_id: str(r.schema).removeprefix("audit_")
        for r in (*manifest.nodes.values(), *manifest.sources.values())
        if str(r.schema).removeprefix("audit_") in PUBLISHED_SCHEMAS
        and str(r.schema).startswith("audit_")
    }


def _resources(manifest: Any) -> dict[str, Any]:
    return {r.unique_id: r for r in (*manifest.nodes.values(), *manifest.sources.values())}


def test_each_schema_builds_in_its_own_colour_and_publishes_under_its_name(
    parsed: tuple,  # noqa: F811
) -> None:
    names = _published_names(parsed[0])
    assert set(names.values()) >= {"staging", "intermediate", "marts", "ml"}
    built = build_manifest(parsed[0].deepcopy(), MIXED)
    resources = _resources(built)
    for uid, name in names.items():
        resource = resources[uid]
        assert resource.schema == MIXED[name] + name, (uid, resource.schema)
        if resource.relation_name:
            assert f'"{MIXED[name]}{name}"' in resource.relation_name, resource.relation_name
    ml = [s for s in built.sources.values() if s.source_name == "ml"]
    assert ml and {s.schema for s in ml} == {"blue_ml"}
    # The docs step's manifest: the same relations under the published names.
    published = _resources(published_manifest(built, MIXED))
    for uid, name in names.items():
        assert published[uid].schema == name, (uid, published[uid].schema)
    # All-audit prefixes (BigQuery) leave the parse untouched.
    again = parsed[0].deepcopy()
    assert build_manifest(again, dict.fromkeys(PUBLISHED_SCHEMAS, "audit_")) is again
    assert {s.schema for s in again.sources.values() if s.source_name == "ml"} == {"audit_ml"}
