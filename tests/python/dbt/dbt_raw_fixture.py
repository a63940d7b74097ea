"""A small synthetic ``raw.incidents`` for developing the dbt project before ingestion exists.

Same landing contract as dlt's: every API field as TEXT with its API name, the Socrata system
fields as ``socrata_*`` and dlt's ``_dlt_load_id``/``_dlt_id``. Real builds use the replay API.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

NEIGHBORHOODS = ["Allentown", "Black Rock", "Central", "Elmwood Bidwell", "Hamlin Park", "UNKNOWN"]
POLICE = ["District A", "District B", "District C", "District D", "District E"]
COUNCIL = ["DELAWARE", "ELLICOTT", "FILLMORE", "MASTEN", "NORTH", "UNKNOWN"]
TYPES = [
    ("LARCENY/THEFT", "Theft"),
    ("ASSAULT", "Assault"),
    ("BURGLARY", "Breaking & Entering"),
    ("UUV", "Theft of Vehicle"),
    ("ROBBERY", "Robbery"),
    ("RAPE", "Sexual Assault"),
    ("MURDER", "Homicide"),
]
COLUMNS = [
    "case_number", "incident_datetime", "incident_type_primary", "incident_description",
    "parent_incident_type", "hour_of_day", "day_of_week", "address_1", "city", "state",
    "location", "latitude", "longitude", "created_at", "neighborhood", "police_district",
    "council_district", "socrata_id", "socrata_created_at", "socrata_updated_at",
    "_dlt_load_id", "_dlt_id",
]  # fmt: skip


def make_rows(n: int, start: datetime, days: int, seed: int = 7, first_id: int = 0) -> list[tuple]:
    """``n`` synthetic incidents spread over ``days`` days from ``start``."""
    rng = random.Random(seed)
    rows = []
    for i in range(first_id, first_id + n):
        occurred = start + timedelta(minutes=rng.randrange(days * 24 * 60))
        primary, parent = rng.choice(TYPES)
        lat, lon = round(rng.uniform(42.83, 42.96), 6), round(rng.uniform(-78.91, -78.80), 6)
        coords = rng.random() > 0.05
        updated = occurred + timedelta(hours=5 + rng.randrange(48))
        rows.append(
            (
                f"{occurred:%y}-{i:07d}",
                occurred.strftime("%Y-%m-%dT%H:%M:%S.000"),
                primary,
                f"{primary} reported",
                parent,
                str(occurred.hour),
                occurred.strftime("%A"),
                f"{rng.randrange(1, 40) * 100} Block {rng.choice(['MAIN ST', 'ELMWOOD AVE'])}",
                "Buffalo",
                "NY",
                json.dumps({"type": "Point", "coordinates": [lon, lat]}) if coords else None,
                str(lat) if coords else "UNKNOWN",
                str(lon) if coords else "UNKNOWN",
                (occurred + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000"),
                rng.choice(NEIGHBORHOODS),
                rng.choice(POLICE),
                rng.choice(COUNCIL),
                f"row-{i}",
                (occurred + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                updated.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "1700000000.1",
                f"dlt{i}",
            )
        )
    return rows


def write_raw(path: Path, n: int = 3000, start: datetime = datetime(2024, 1, 1), days: int = 90):
    """Create ``raw.incidents`` in the DuckDB file at ``path`` (replacing it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists raw")
        cols = ", ".join(f"{c} text" for c in COLUMNS)
        con.execute(f"create or replace table raw.incidents ({cols})")
        marks = ", ".join("?" for _ in COLUMNS)
        con.executemany(f"insert into raw.incidents values ({marks})", make_rows(n, start, days))
    finally:
        con.close()


if __name__ == "__main__":
    write_raw(Path("data/blotter.duckdb"))
