"""Fetch settings of the Socrata source, derived from a source profile, and HTTP constants.

What differs between datasets (key, cursor, incident time, coordinates, timezone, look-back)
comes from the dataset's profile (``ingestion/profiles/<name>.yml``); what is the same for
every portal (page size, timeouts, retry policy) is a constant here.

Environment variables read here: none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ingestion.profiles import SourceProfile

# SODA 2.x returns at most 50,000 rows per request (dev.socrata.com/docs/paging).
MAX_PAGE_SIZE = 50_000
# (connect, read) seconds; a big page from a busy portal can take a while to stream.
DEFAULT_TIMEOUT = (10.0, 120.0)
# Attempts per request for 429 / 5xx / 202 / timeouts / dropped connections, and the bounds of
# dlt's exponential backoff (seconds). A refused connection or unknown host is not retried here:
# it is rarely fixed by waiting, and the run's own retry policy decides about the whole step.
MAX_ATTEMPTS = 8
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


@dataclass(frozen=True)
class DatasetSettings:
    """How to fetch one SODA dataset (see :meth:`from_profile`).

    Attributes:
        dataset_id: The four-four id, e.g. ``d6g9-xbgu``.
        key: Natural key column (API name); the merge primary key of ``raw.incidents``.
        cursor: System field used as the incremental cursor (a fixed UTC timestamp).
        tiebreak: Unique system field that makes ``$order`` stable among equal cursors.
        date_field: Floating-timestamp column bounding the backfill (``>= start_date``).
        coordinate_fields: Text columns that must be numeric, null or a sentinel.
        coordinate_sentinels: Legitimate non-numeric coordinate values.
        page_size: Rows per request (``$limit``).
        timeout: (connect, read) timeout in seconds.
        lookback: How far before the stored cursor each incremental run re-reads, so records
            edited late (or committed out of order) are picked up.
        column_types: Expected Socrata type per column (schema drift is measured against it).
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
    column_types: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_profile(cls, profile: SourceProfile, page_size: int | None = None) -> DatasetSettings:
        """The fetch settings a profile implies (``page_size`` overrides the default)."""
        return cls(
            dataset_id=profile.dataset_id,
            key=profile.key,
            cursor=profile.cursor,
            date_field=profile.occurred_column,
            coordinate_fields=profile.columns_of("latitude", "longitude"),
            coordinate_sentinels=frozenset(profile.coordinate_sentinels),
            page_size=page_size or MAX_PAGE_SIZE,
            lookback=profile.lookback,
            column_types=tuple(profile.column_types.items()),
        )


@dataclass(frozen=True)
class Bounds:
    """What one run may land: nothing that happened or changed after its as-of day.

    Attributes:
        as_of: The run's as-of day (publisher's timezone).
        occurred_before: Exclusive bound on the (floating, local) incident time: the local
            midnight that ends ``as_of``.
        cursor_before: Exclusive bound on the cursor (naive UTC): the same instant in UTC.
    """

    as_of: date
    occurred_before: datetime
    cursor_before: datetime

    @classmethod
    def for_day(cls, profile: SourceProfile, as_of: date) -> Bounds:
        return cls(
            as_of=as_of,
            occurred_before=datetime.combine(as_of + timedelta(days=1), time()),
            cursor_before=profile.end_of_day_utc(as_of),
        )


def dataset_settings(url: str, page_size: int | None = None) -> DatasetSettings:
    """Fetch settings of the dataset a resource URL points at, through its profile.

    Raises:
        ProfileError: when no profile describes the URL's dataset.
    """
    from ingestion.profiles import load_profile

    return DatasetSettings.from_profile(load_profile(url), page_size)
