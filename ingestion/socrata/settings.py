"""Per-dataset settings of the Socrata source.

SODA datasets differ in their natural key, their date column and how their values look, so each
dataset id the source can load has one entry in ``DATASETS``. The replay API serves the same
dataset id as Buffalo's Crime Incidents (``d6g9-xbgu``), so both share an entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# SODA 2.x returns at most 50,000 rows per request (dev.socrata.com/docs/paging).
MAX_PAGE_SIZE = 50_000
# (connect, read) seconds; a big page from a busy portal can take a while to stream.
DEFAULT_TIMEOUT = (10.0, 120.0)
# Retries for 429 / 5xx / 202 / timeouts / connection errors, and the backoff bounds (seconds).
MAX_ATTEMPTS = 8
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# An unreachable host is rarely fixed by waiting long: give up after a few quick attempts.
MAX_CONNECT_ATTEMPTS = 3

_RESOURCE_URL = re.compile(r"/resource/([a-z0-9]{4}-[a-z0-9]{4})\.json$")


@dataclass(frozen=True)
class DatasetSettings:
    """How to load one SODA dataset.

    Attributes:
        dataset_id: The four-four id, e.g. ``d6g9-xbgu``.
        key: Natural key column (API name); the merge primary key of ``raw.incidents``.
        cursor: System field used as the incremental cursor (a fixed UTC timestamp).
        tiebreak: Unique system field that makes ``$order`` stable among equal cursors.
        date_field: Floating-timestamp column bounding the backfill (``>= start_date``).
        coordinate_fields: Text columns that must be numeric, null or ``UNKNOWN``.
        coordinate_sentinels: Legitimate non-numeric coordinate values.
        page_size: Rows per request (``$limit``).
        timeout: (connect, read) timeout in seconds.
        lookback: How far before the stored cursor each incremental run re-reads, so records
            edited late (or committed out of order) are picked up.
        timezone: The publisher's zone: floating timestamps are wall-clock times there, and
            "as of day D" ends at midnight there (the cursor is UTC).
    """

    dataset_id: str
    key: str = "case_number"
    cursor: str = ":updated_at"
    tiebreak: str = ":id"
    date_field: str = "incident_datetime"
    coordinate_fields: tuple[str, ...] = ("latitude", "longitude")
    coordinate_sentinels: frozenset[str] = frozenset({"UNKNOWN"})
    page_size: int = MAX_PAGE_SIZE
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    lookback: timedelta = timedelta(days=3)
    timezone: str = "America/New_York"

    def end_of_day_utc(self, day: date) -> datetime:
        """The naive UTC instant at which local day ``day`` ends (DST-aware)."""
        local_midnight = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(self.timezone))
        return local_midnight.astimezone(UTC).replace(tzinfo=None)


DATASETS: dict[str, DatasetSettings] = {
    # City of Buffalo, Crime Incidents (and the replay API's synthetic city).
    "d6g9-xbgu": DatasetSettings(dataset_id="d6g9-xbgu"),
}


class UnknownDatasetError(ValueError):
    """The resource URL names a dataset with no entry in ``DATASETS``."""


def dataset_id_of(url: str) -> str:
    """Return the four-four dataset id of a SODA resource URL.

    Raises:
        UnknownDatasetError: if the URL is not a ``/resource/<id>.json`` URL.
    """
    match = _RESOURCE_URL.search(url.split("?", 1)[0])
    if not match:
        raise UnknownDatasetError(f"{url} is not a SODA resource URL (.../resource/<id>.json)")
    return match.group(1)


def dataset_settings(url: str) -> DatasetSettings:
    """Look up the settings of the dataset a resource URL points at.

    Raises:
        UnknownDatasetError: if the dataset has no entry in ``DATASETS``.
    """
    dataset_id = dataset_id_of(url)
    try:
        return DATASETS[dataset_id]
    except KeyError:
        raise UnknownDatasetError(
            f"no dataset settings for {dataset_id} (known: {', '.join(sorted(DATASETS))}); "
            "add its key and cursor to ingestion/socrata/settings.py"
        ) from None
