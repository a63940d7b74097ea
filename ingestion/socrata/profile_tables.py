"""The profile tables landed with every ingest (dlt ``replace``): what dbt reads of the source.

``raw.source_profile`` (one row: the profile as JSON, the source and the backfill's start),
``raw.source_geographies`` (official areas per level), ``raw.source_incident_types`` and
``raw.source_parent_incident_types`` (the type maps). They replace the former seeds, so a new
city needs a profile and no dbt change. Tables are typed Arrow, so an empty one (a profile
without official values) is still created and truncated.

Environment variables read here: none.
"""

from __future__ import annotations

from datetime import date

import orjson
import pyarrow as pa

from ingestion.profiles import SourceProfile

SOURCE_PROFILE = "source_profile"
SOURCE_GEOGRAPHIES = "source_geographies"
SOURCE_INCIDENT_TYPES = "source_incident_types"
SOURCE_PARENT_INCIDENT_TYPES = "source_parent_incident_types"
PROFILE_TABLES = (
    SOURCE_PROFILE,
    SOURCE_GEOGRAPHIES,
    SOURCE_INCIDENT_TYPES,
    SOURCE_PARENT_INCIDENT_TYPES,
)


def profile_tables(
    profile: SourceProfile, source_id: str, source_url: str, start_date: date
) -> dict[str, pa.Table]:
    """Table name -> Arrow table of the four profile tables.

    Args:
        profile: The source profile (its JSON goes to ``profile_json``).
        source_id: ``<hostname>/<dataset_id>`` of the source read.
        source_url: The resource URL read, already redacted.
        start_date: First day of the warehouse's backfill (checked by later ingests).
    """
    doc = profile.to_dict()
    doc["url"] = source_url
    levels = [(g, i) for i, g in enumerate(profile.geographies, 1) for _ in (g.values or ())]
    geos = [v for g in profile.geographies for v in (g.values or ())]
    parents = profile.parent_incident_types
    return {
        SOURCE_PROFILE: pa.table(
            {
                "profile_name": pa.array([profile.name], pa.string()),
                "source_id": pa.array([source_id], pa.string()),
                "dataset_id": pa.array([profile.dataset_id], pa.string()),
                "source_url": pa.array([source_url], pa.string()),
                "profile_json": pa.array([orjson.dumps(doc).decode()], pa.string()),
                "start_date": pa.array([start_date], pa.date32()),
            }
        ),
        SOURCE_GEOGRAPHIES: pa.table(
            {
                "geo_level": pa.array([g.level for g, _ in levels], pa.string()),
                "geo_level_label": pa.array([g.label for g, _ in levels], pa.string()),
                "level_order": pa.array([i for _, i in levels], pa.int64()),
                "geo": pa.array(geos, pa.string()),
            }
        ),
        SOURCE_INCIDENT_TYPES: pa.table(
            {
                "incident_type": pa.array(list(profile.incident_types), pa.string()),
                "parent_incident_type": pa.array(
                    list(profile.incident_types.values()), pa.string()
                ),
            }
        ),
        SOURCE_PARENT_INCIDENT_TYPES: pa.table(
            {
                "parent_incident_type": pa.array(list(parents), pa.string()),
                "incident_category": pa.array([p.category for p in parents.values()], pa.string()),
                "is_sensitive": pa.array([p.sensitive for p in parents.values()], pa.bool_()),
            }
        ),
    }
