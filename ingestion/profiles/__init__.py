"""Source profiles: what Blotter needs to know about one Socrata dataset, one YAML file each.

``load_profile("demo" | name | resource URL)`` returns a validated :class:`SourceProfile`;
the shipped profiles live next to this module (``buffalo``, ``buffalo_2019``, ``chicago``,
``sf``). See README ("A new city") for how to write one.

Environment variables read here: none.
"""

from ingestion.profiles.loader import (
    DEMO,
    PROFILE_DIR,
    display_path,
    load_profile,
    profile_names,
    read_profile,
)
from ingestion.profiles.model import FIELD_NAMES, GeoLevel, ParentType, SourceProfile
from ingestion.profiles.validate import ProfileError, dataset_id_of, parse_profile

__all__ = [
    "DEMO",
    "FIELD_NAMES",
    "PROFILE_DIR",
    "GeoLevel",
    "ParentType",
    "ProfileError",
    "SourceProfile",
    "dataset_id_of",
    "display_path",
    "load_profile",
    "parse_profile",
    "profile_names",
    "read_profile",
]
