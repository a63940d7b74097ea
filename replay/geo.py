"""Static tables of the synthetic city: areas, streets, incident types, the served schema.

Neighbourhood centroids, district assignments and activity weights are plausible for Buffalo, not
surveyed: they only need to give the warehouse realistic shapes (busy and quiet areas, every
police and council district populated, coordinates inside the city's bounding box).

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DATASET_ID = "d6g9-xbgu"

# (name, police district, council district, activity weight, latitude, longitude)
NEIGHBORHOODS: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("Allentown", "District B", "NIAGARA", 1.2, 42.900, -78.875),
    ("Black Rock", "District D", "NORTH", 0.8, 42.932, -78.898),
    ("Broadway Fillmore", "District C", "FILLMORE", 2.6, 42.895, -78.835),
    ("Central", "District B", "ELLICOTT", 2.0, 42.885, -78.873),
    ("Central Park", "District E", "UNIVERSITY", 0.6, 42.940, -78.840),
    ("Delavan Grider", "District E", "MASTEN", 1.8, 42.920, -78.835),
    ("Ellicott", "District B", "ELLICOTT", 1.6, 42.890, -78.860),
    ("Elmwood Bidwell", "District D", "DELAWARE", 1.0, 42.925, -78.877),
    ("Elmwood Bryant", "District D", "DELAWARE", 1.1, 42.912, -78.875),
    ("Fillmore-Leroy", "District E", "MASTEN", 1.0, 42.930, -78.835),
    ("First Ward", "District A", "SOUTH", 0.5, 42.870, -78.865),
    ("Fruit Belt", "District B", "ELLICOTT", 0.7, 42.897, -78.860),
    ("Genesee-Moselle", "District E", "MASTEN", 1.9, 42.910, -78.815),
    ("Grant-Amherst", "District D", "NORTH", 0.9, 42.938, -78.888),
    ("Hamlin Park", "District C", "MASTEN", 0.8, 42.918, -78.848),
    ("Hopkins-Tifft", "District A", "SOUTH", 0.3, 42.840, -78.830),
    ("Kaisertown", "District A", "LOVEJOY", 0.5, 42.870, -78.800),
    ("Kenfield", "District E", "UNIVERSITY", 0.6, 42.945, -78.805),
    ("Kensington-Bailey", "District E", "UNIVERSITY", 1.4, 42.935, -78.815),
    ("Lovejoy", "District A", "LOVEJOY", 1.1, 42.882, -78.815),
    ("Lower West Side", "District B", "NIAGARA", 1.3, 42.893, -78.885),
    ("Masten Park", "District C", "MASTEN", 1.7, 42.908, -78.853),
    ("MLK Park", "District C", "FILLMORE", 1.9, 42.900, -78.835),
    ("North Park", "District D", "DELAWARE", 0.9, 42.948, -78.860),
    ("Parkside", "District E", "DELAWARE", 0.6, 42.935, -78.853),
    ("Pratt-Willert", "District C", "FILLMORE", 1.3, 42.888, -78.845),
    ("Riverside", "District D", "NORTH", 0.9, 42.950, -78.902),
    ("Schiller Park", "District C", "FILLMORE", 1.0, 42.912, -78.825),
    ("Seneca Babcock", "District A", "SOUTH", 0.5, 42.868, -78.825),
    ("Seneca-Cazenovia", "District A", "SOUTH", 0.8, 42.855, -78.805),
    ("South Park", "District A", "SOUTH", 1.0, 42.845, -78.815),
    ("University Heights", "District E", "UNIVERSITY", 1.5, 42.952, -78.828),
    ("Upper West Side", "District D", "NIAGARA", 1.0, 42.915, -78.895),
    ("West Hertel", "District D", "NORTH", 0.8, 42.950, -78.885),
    ("West Side", "District D", "NIAGARA", 2.2, 42.905, -78.890),
)
LAT_RANGE = (42.825, 42.965)
LON_RANGE = (-78.915, -78.795)

STREETS = (
    "BAILEY", "BROADWAY", "MAIN", "DELAWARE", "ELMWOOD", "NIAGARA", "GRANT", "HERTEL",
    "KENSINGTON", "GENESEE", "E DELAVAN", "W DELAVAN", "FILLMORE", "JEFFERSON", "SYCAMORE",
    "WILLIAM", "CLINTON", "SENECA", "SOUTH PARK", "ABBOTT", "HOPKINS", "TONAWANDA", "AMHERST",
    "W FERRY", "E FERRY", "BEST", "HIGH", "MICHIGAN", "ELLICOTT", "ALLEN", "CONNECTICUT",
    "HAMPSHIRE", "NORMAL", "PORTER", "RICHMOND", "LAFAYETTE", "MOSELLE", "LOVEJOY", "PARKSIDE",
    "COLVIN", "MINNESOTA", "KENMORE", "LEROY", "EGGERT", "DEWEY", "CAZENOVIA", "EAST",
    "WALDEN", "SCHMARBECK", "PADEREWSKI",
)  # fmt: skip
STREETS_PER_AREA = 7
MAX_BLOCK = 40  # block numbers 100..4000

# (incident_type_primary, parent_incident_type, weight): shares follow the 2023 JSON (SOURCE_API §3)
TYPES: tuple[tuple[str, str, float], ...] = (
    ("LARCENY/THEFT", "Theft", 42.6),
    ("THEFT OF SERVICES", "Theft", 0.9),
    ("Theft", "Theft", 0.3),
    ("ASSAULT", "Assault", 16.0),
    ("AGGR ASSAULT", "Assault", 3.6),
    ("AGG ASSAULT ON P/OFFICER", "Assault", 0.5),
    ("Assault", "Assault", 0.2),
    ("BURGLARY", "Breaking & Entering", 17.8),
    ("Breaking & Entering", "Breaking & Entering", 0.2),
    ("UUV", "Theft of Vehicle", 8.5),
    ("Theft of Vehicle", "Theft of Vehicle", 0.1),
    ("ROBBERY", "Robbery", 6.2),
    ("Robbery", "Robbery", 0.1),
    ("RAPE", "Sexual Assault", 0.75),
    ("Sexual Assault", "Sexual Assault", 0.05),
    ("SEXUAL ABUSE", "Other Sexual Offense", 0.65),
    ("Other Sexual Offense", "Other Sexual Offense", 0.05),
    ("SEXUAL ABUSE", "Sexual Offense", 0.45),
    ("SODOMY", "Sexual Offense", 0.05),
    ("MURDER", "Homicide", 0.28),
    ("MANSLAUGHTER", "Homicide", 0.02),
    ("CRIM NEGLIGENT HOMICIDE", "Homicide", 0.02),
    ("Homicide", "Homicide", 0.02),
)
# A late reclassification moves a type to a plausible neighbour (index into TYPES).
RECLASSIFY_TO = (7, 0, 0, 4, 3, 3, 3, 0, 7, 0, 9, 0, 11, 15, 13, 13, 15, 13, 17, 20, 19, 19, 19)

# Share of incidents per hour of the day: a trough before dawn, an evening peak, and the
# spike at midnight that real data shows when the time of day was not recorded.
HOUR_WEIGHTS = (
    5.0, 3.6, 3.2, 2.6, 1.9, 1.5, 1.6, 2.4, 3.5, 4.0, 4.1, 4.2,
    4.8, 4.6, 4.7, 5.1, 5.3, 5.4, 5.3, 5.1, 4.9, 4.6, 4.3, 3.9,
)  # fmt: skip
# Monday..Sunday multipliers of the daily volume.
WEEKDAY_FACTORS = (1.05, 0.97, 0.96, 0.97, 1.04, 1.06, 0.95)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

DESCRIPTION = (
    "Buffalo Police are investigating this report of a crime.  It is important to note that "
    "this is very preliminary information and further investigation as to the facts will be "
    "done as part of the follow-up process."
)

# The served schema: today's 27 JSON keys with their Socrata types, in the API's order.
FIELDS: tuple[tuple[str, str], ...] = (
    ("case_number", "text"),
    ("incident_datetime", "floating_timestamp"),
    ("incident_type_primary", "text"),
    ("incident_description", "text"),
    ("parent_incident_type", "text"),
    ("hour_of_day", "text"),
    ("day_of_week", "text"),
    ("address_1", "text"),
    ("city", "text"),
    ("state", "text"),
    ("location", "point"),
    ("latitude", "text"),
    ("longitude", "text"),
    ("created_at", "floating_timestamp"),
    ("census_tract_2010", "text"),
    ("census_block_group_2010", "text"),
    ("census_block_2010", "text"),
    ("census_tract", "text"),
    ("census_block", "text"),
    ("census_block_group", "text"),
    ("neighborhood", "text"),
    ("police_district", "text"),
    ("council_district", "text"),
    ("tractce20", "text"),
    ("geoid20_tract", "text"),
    ("geoid20_blockgroup", "text"),
    ("geoid20_block", "text"),
)
SYSTEM_FIELDS: tuple[tuple[str, str], ...] = (
    (":id", "row_identifier"),
    (":created_at", "fixed_timestamp"),
    (":updated_at", "fixed_timestamp"),
)
DRIFT_FIELDS: tuple[tuple[str, str], ...] = (("incident_id", "text"), ("zip_code", "text"))
GEO_FIELDS = (
    "census_tract_2010", "census_block_group_2010", "census_block_2010", "census_tract",
    "census_block", "census_block_group", "neighborhood", "police_district", "council_district",
    "tractce20", "geoid20_tract", "geoid20_blockgroup", "geoid20_block",
)  # fmt: skip


def lookup(values: Sequence[str | None]) -> np.ndarray:
    """An object array of strings, indexable by integer codes (fast categorical rendering)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out
