"""The source profile tables that ingestion lands next to ``raw.incidents`` (CONTRACTS §D).

Until the ingest helper's landing is merged, the dbt tests write the four ``raw.source_*``
tables themselves, from a dict shaped like the normalised profile document
(``SourceProfile.to_dict()``, see /work/design/profile_format.yml). This is the ONE place that
does it: switch :func:`write_profile` to ``ingestion.socrata.profile_tables.profile_tables`` and
:data:`BUFFALO` to ``load_profile("buffalo").to_dict()`` once the loader is on main.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

NEIGHBORHOODS = [
    "Allentown", "Black Rock", "Broadway Fillmore", "Central", "Central Park", "Delavan Grider",
    "Ellicott", "Elmwood Bidwell", "Elmwood Bryant", "Fillmore-Leroy", "First Ward", "Fruit Belt",
    "Genesee-Moselle", "Grant-Amherst", "Hamlin Park", "Hopkins-Tifft", "Kaisertown", "Kenfield",
    "Kensington-Bailey", "Lovejoy", "Lower West Side", "Masten Park", "MLK Park", "North Park",
    "Parkside", "Pratt-Willert", "Riverside", "Schiller Park", "Seneca Babcock",
    "Seneca-Cazenovia", "South Park", "University Heights", "Upper West Side", "West Hertel",
    "West Side",
]  # fmt: skip

# ingestion/profiles/buffalo.yml as SourceProfile.to_dict() gives it (Blotter's former seeds).
BUFFALO: dict[str, Any] = {
    "name": "buffalo",
    "title": "City of Buffalo, Crime Incidents",
    "dataset_id": "d6g9-xbgu",
    "url": None,
    "city_name": "Buffalo",
    "timezone": "America/New_York",
    "bbox": {"min_lat": 42.80, "max_lat": 42.98, "min_lon": -78.93, "max_lon": -78.78},
    "key": "case_number",
    "cursor": ":updated_at",
    "lookback_days": 3,
    "fields": {
        "record_key": ["case_number"],
        "case_number": ["case_number"],
        "occurred_at": ["incident_datetime"],
        "reported_at": ["created_at"],
        "incident_type": ["incident_type_primary"],
        "parent_incident_type": ["parent_incident_type"],
        "description": ["incident_description"],
        "address": ["address_1"],
        "latitude": ["latitude"],
        "longitude": ["longitude"],
        "location": ["location"],
    },
    "coordinate_sentinels": ["UNKNOWN"],
    "geographies": [
        {
            "level": "police_district",
            "label": "Police district",
            "columns": ["police_district"],
            "values": [f"District {x}" for x in "ABCDE"],
            "normalise": "none",
        },
        {
            "level": "council_district",
            "label": "Council district",
            "columns": ["council_district"],
            "values": ["DELAWARE", "ELLICOTT", "FILLMORE", "LOVEJOY", "MASTEN", "NIAGARA",
                       "NORTH", "SOUTH", "UNIVERSITY"],
            "normalise": "none",
        },
        {
            "level": "neighborhood",
            "label": "Neighborhood",
            "columns": ["neighborhood", "neighborhood_1"],
            "values": NEIGHBORHOODS,
            "normalise": "none",
        },
    ],
    "pii": ["case_number", "incident_description", "address_1", "latitude", "longitude",
            "location"],
    "column_types": {"case_number": "text", "incident_datetime": "floating_timestamp"},
    "incident_types": {
        "LARCENY/THEFT": "Theft", "THEFT OF SERVICES": "Theft", "THEFT": "Theft",
        "ASSAULT": "Assault", "AGGR ASSAULT": "Assault", "AGG ASSAULT ON P/OFFICER": "Assault",
        "BURGLARY": "Breaking & Entering", "BREAKING & ENTERING": "Breaking & Entering",
        "UUV": "Theft of Vehicle", "THEFT OF VEHICLE": "Theft of Vehicle", "ROBBERY": "Robbery",
        "RAPE": "Sexual Assault", "SEXUAL ASSAULT": "Sexual Assault",
        "SEXUAL ABUSE": "Other Sexual Offense", "OTHER SEXUAL OFFENSE": "Other Sexual Offense",
        "SODOMY": "Sexual Offense", "SEXUAL OFFENSE": "Sexual Offense", "MURDER": "Homicide",
        "MANSLAUGHTER": "Homicide", "CRIM NEGLIGENT HOMICIDE": "Homicide",
        "HOMICIDE": "Homicide",
    },
    "parent_incident_types": {
        "Theft": {"category": "Property", "sensitive": False},
        "Breaking & Entering": {"category": "Property", "sensitive": False},
        "Theft of Vehicle": {"category": "Property", "sensitive": False},
        "Assault": {"category": "Violent", "sensitive": False},
        "Robbery": {"category": "Violent", "sensitive": False},
        "Homicide": {"category": "Violent", "sensitive": False},
        "Sexual Assault": {"category": "Sexual", "sensitive": True},
        "Other Sexual Offense": {"category": "Sexual", "sensitive": True},
        "Sexual Offense": {"category": "Sexual", "sensitive": True},
    },
    "record_updated_at": [],
}  # fmt: skip
DEMO_SOURCE_ID = "127.0.0.1/d6g9-xbgu"


def buffalo() -> dict[str, Any]:
    """A private copy of the Buffalo profile document (tests may edit it)."""
    return copy.deepcopy(BUFFALO)


# Column name -> DuckDB type of each profile table (dlt lands them with these types).
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "source_profile": {
        "profile_name": "varchar",
        "source_id": "varchar",
        "dataset_id": "varchar",
        "source_url": "varchar",
        "profile_json": "varchar",
        "start_date": "date",
    },
    "source_geographies": {
        "geo_level": "varchar",
        "geo_level_label": "varchar",
        "level_order": "bigint",
        "geo": "varchar",
    },
    "source_incident_types": {"incident_type": "varchar", "parent_incident_type": "varchar"},
    "source_parent_incident_types": {
        "parent_incident_type": "varchar",
        "incident_category": "varchar",
        "is_sensitive": "boolean",
    },
}


def profile_rows(
    profile: dict[str, Any], source_id: str = DEMO_SOURCE_ID, start_date: date = date(2025, 5, 1)
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of the four profile tables (columns as in :data:`TABLE_COLUMNS`)."""
    return {
        "source_profile": [
            (
                profile["name"],
                source_id,
                profile["dataset_id"],
                profile.get("url"),
                json.dumps(profile),
                start_date,
            )
        ],
        "source_geographies": [
            (g["level"], g["label"], i, value)
            for i, g in enumerate(profile["geographies"], 1)
            for value in g.get("values") or ()
        ],
        "source_incident_types": list(profile["incident_types"].items()),
        "source_parent_incident_types": [
            (name, p["category"], p["sensitive"])
            for name, p in profile["parent_incident_types"].items()
        ],
    }


def write_profile(
    db: Path,
    profile: dict[str, Any],
    source_id: str = DEMO_SOURCE_ID,
    start_date: date = date(2025, 5, 1),
) -> None:
    """Replace the four ``raw.source_*`` tables of ``db`` with ``profile`` (bound parameters)."""
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema if not exists raw")
        for table, rows in profile_rows(profile, source_id, start_date).items():
            columns = TABLE_COLUMNS[table]
            ddl = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            con.execute(f"create or replace table raw.{table} ({ddl})")
            if rows:
                marks = ", ".join("?" for _ in columns)
                con.executemany(f"insert into raw.{table} values ({marks})", rows)
    finally:
        con.close()


def ensure_profile(db: Path) -> None:
    """Write the Buffalo profile tables unless ingestion already landed ``raw.source_profile``."""
    con = duckdb.connect(str(db))
    try:
        [(landed,)] = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'raw' and table_name = 'source_profile'"
        ).fetchall()
    finally:
        con.close()
    if not landed:
        write_profile(db, buffalo())
