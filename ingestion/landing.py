"""What a warehouse's ``raw`` landing already holds, and whether this ingest may add to it.

One warehouse holds one source: ``raw.source_profile`` records the source id, the profile and
the backfill's start date, and an ingest of another source (or from another start date without
``--full-refresh``) is refused before anything is fetched. The checks read through dlt's SQL
client, so they work on every destination the engine hands to ingestion.

Environment variables read here: none.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from dlt.common.destination.exceptions import DestinationUndefinedEntity

from ingestion.errors import KeyChangedError, SourceMismatchError, StartDateError
from ingestion.socrata import INCIDENTS_TABLE
from ingestion.socrata.profile_tables import SOURCE_PROFILE

log = logging.getLogger("blotter.ingestion")
LEGACY_DATASET = "d6g9-xbgu"


@dataclass(frozen=True)
class Landing:
    """The landing as found before an ingest.

    Attributes:
        source_id: Source recorded in ``raw.source_profile`` (None: none recorded).
        profile_name: Profile recorded with it.
        start_date: Start date of the warehouse's backfill.
        record_key: Merge key of ``raw.incidents`` in the recorded profile (its ``key``).
        has_table: ``raw.incidents`` exists.
        has_incidents: ``raw.incidents`` holds at least one row.
    """

    source_id: str | None = None
    profile_name: str | None = None
    start_date: date | None = None
    record_key: str | None = None
    has_table: bool = False
    has_incidents: bool = False

    @property
    def is_new(self) -> bool:
        """Nothing was ever landed here: this ingest creates the warehouse's raw landing."""
        return self.source_id is None and not self.has_table


def describe_destination(pipeline: Any) -> str:
    """Where ``pipeline`` lands, for messages: dlt's safe rendering of its destination."""
    try:
        where = str(pipeline.destination_client().config)
    except Exception:  # noqa: BLE001 - a description must never be the error
        where = pipeline.destination.destination_name
    return f"{where} (dataset {pipeline.dataset_name})"


def _rows(client: Any, sql: str) -> list[tuple[Any, ...]] | None:
    """Rows of ``sql``, or None when its table does not exist (yet)."""
    try:
        with client.execute_query(sql) as cursor:
            return list(cursor.fetchall())
    except DestinationUndefinedEntity:
        return None


def read_landing(pipeline: Any) -> Landing:
    """Read the landing of ``pipeline``'s destination (raises what the destination raises)."""
    with pipeline.sql_client() as client:
        profile_table = client.make_qualified_table_name(SOURCE_PROFILE)
        recorded = _rows(
            client, f"select source_id, profile_name, start_date, profile_json from {profile_table}"
        )
        incidents = client.make_qualified_table_name(INCIDENTS_TABLE)
        has_rows = _rows(client, f"select 1 from {incidents} limit 1")
    source_id, profile_name, start, landed = (recorded or [(None, None, None, None)])[0]
    if isinstance(start, str):
        start = date.fromisoformat(start[:10])
    return Landing(
        source_id=source_id,
        profile_name=profile_name,
        start_date=start,
        record_key=json.loads(landed).get("key") if landed else None,
        has_table=has_rows is not None,
        has_incidents=bool(has_rows),
    )


def check_landing(
    landing: Landing,
    source_id: str,
    profile_name: str,
    start_date: date,
    full_refresh: bool,
    where: str = "this warehouse",
    record_key: str | None = None,
) -> None:
    """Refuse an ingest that would mix sources or backfill windows in one warehouse.

    ``where`` names the warehouse in the messages (see :func:`describe_destination`).

    Raises:
        SourceMismatchError: the warehouse holds another source or another profile's layout.
        StartDateError: ``start_date`` differs from the backfill's start (without full refresh).
        KeyChangedError: the profile's ``record_key`` is not the key raw was landed on (without
            full refresh): dlt would merge raw on it and delete the rows sharing a value.
    """
    if landing.source_id is not None and (
        landing.source_id != source_id or landing.profile_name != profile_name
    ):
        raise SourceMismatchError(
            f"{where} holds {landing.source_id} (profile {landing.profile_name}); "
            f"refusing to add {source_id} (profile {profile_name}): one warehouse holds one "
            "source, so point the target at a fresh warehouse"
        )
    if landing.source_id is None and landing.has_incidents:
        # Landed before sources were recorded, when Buffalo's dataset was the only one possible.
        if not source_id.endswith(f"/{LEGACY_DATASET}"):
            raise SourceMismatchError(
                f"{where} holds {LEGACY_DATASET} incidents landed before sources were "
                f"recorded; refusing to add {source_id}: point the target at a fresh warehouse"
            )
        log.warning(
            "raw.incidents has no recorded source; adopting it for %s (profile %s)",
            source_id,
            profile_name,
        )
    if landing.record_key not in (None, record_key) and record_key and not full_refresh:
        raise KeyChangedError(
            f"the profile {profile_name} keys records on {record_key}, but {where} was landed "
            f"on {landing.record_key}: merging on a new key would delete every raw row sharing "
            f"its value. Set the profile's key back to {landing.record_key}, or run `blotter "
            f"ingest --full-refresh` to re-land everything on {record_key}"
        )
    if landing.start_date not in (None, start_date) and not full_refresh:
        raise StartDateError(
            f"BLOTTER_START_DATE {start_date} differs from {landing.start_date}, the start "
            f"{where} was backfilled from: set it back, or run `blotter ingest --full-refresh` "
            f"to re-read everything from {start_date}"
        )


def count_rows(pipeline: Any, load_id: str | None) -> tuple[int, int]:
    """Rows written by ``load_id`` (inserts + updates) and all rows in ``raw.incidents``."""
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name(INCIDENTS_TABLE)
        try:
            with client.execute_query(f"select count(*) from {table}") as cursor:
                total = cursor.fetchall()[0][0]
        except DestinationUndefinedEntity:  # nothing has ever matched the window
            return 0, 0
        if load_id is None:
            return 0, int(total)
        query = f"select count(*) from {table} where _dlt_load_id = %s"
        with client.execute_query(query, load_id) as cursor:
            loaded = cursor.fetchall()[0][0]
    return int(loaded), int(total)
