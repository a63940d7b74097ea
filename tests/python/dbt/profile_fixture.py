"""The source profile tables that ingestion lands next to ``raw.incidents``, for dbt tests.

dbt tests that build from hand-made raw rows write the four ``raw.source_*`` tables themselves,
from a profile document (``SourceProfile.to_dict()``), edited where a test needs another city
or a broken profile. This is the one place that does it.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ingestion.profiles import load_profile

# The shipped Buffalo profile as the dbt tests land it for the demo city (served locally, so
# no portal URL).
BUFFALO: dict[str, Any] = {**load_profile("buffalo").to_dict(), "url": None}
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
