"""dlt source for one SODA (Socrata) dataset: incremental on its cursor, Arrow pages.

The ``incidents`` resource reads every record changed since this source's stored cursor (minus
the profile's look-back) whose incident date is on or after ``start_date`` and that was known by
the end of the as-of day, validates each page, and yields text-only Arrow tables merged on the
profile's key into ``incidents``. Rejected records go to ``incidents_rejected`` (append) from
the same resource. The four profile tables are replaced on every run.
The cursor lives in the resource's dlt state, keyed by source id, so it is committed together
with the load and never reused for another source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import dlt
import pyarrow as pa

from ingestion.drift import detect_drift
from ingestion.errors import NoIncidentsError
from ingestion.quarantine import FetchQuarantine, rejected_table
from ingestion.socrata.helpers import SodaClient, build_where, lookback_start, redact
from ingestion.socrata.settings import Bounds, DatasetSettings
from ingestion.validation import api_name

INCIDENTS_TABLE = "incidents"
REJECTED_TABLE = "incidents_rejected"
SOURCE_COLUMN = "_blotter_source"
STATE_CURSORS = "cursors"  # source id -> last cursor
LEGACY_CURSOR = "last_cursor"  # before cursors were tied to a source


@dataclass(frozen=True)
class FetchPlan:
    """What one extraction reads.

    Attributes:
        dataset: Fetch settings from the profile.
        start_date: Incidents before this day are never requested.
        bounds: The as-of bounds (cursor and incident time).
        source_id: ``<hostname>/<dataset_id>``: tags every landed row and owns the cursor.
        full_refresh: Ignore the stored cursor and re-read everything from ``start_date``.
        first_load: The warehouse holds no incidents yet: an empty fetch is an error.
    """

    dataset: DatasetSettings
    start_date: date
    bounds: Bounds
    source_id: str
    full_refresh: bool = False
    first_load: bool = False


@dataclass
class FetchStats:
    """What one extraction saw; filled in by the resource, read by the pipeline."""

    source: str = ""
    where: str = ""
    fetched: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    quarantined_future: int = 0
    pages: int = 0
    retries: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    drift: list[str] = field(default_factory=list)


def _rejected_hints(key: str) -> Any:
    # The rejected table must not inherit the resource's merge key: its key may be null.
    return dlt.mark.make_hints(
        table_name=REJECTED_TABLE,
        write_disposition="append",
        primary_key=[],
        columns={key: {"data_type": "text", "nullable": True, "primary_key": False}},
    )


def source_cursors(state: dict[str, Any], source_id: str) -> dict[str, str]:
    """This pipeline's cursors by source; a pre-profile cursor is adopted by the checked source."""
    cursors = state.setdefault(STATE_CURSORS, {})
    if LEGACY_CURSOR in state:
        cursors.setdefault(source_id, state.pop(LEGACY_CURSOR))
    return cursors


@dlt.source(name="socrata", max_table_nesting=0)
def socrata_source(
    url: str,
    plan: FetchPlan,
    tables: dict[str, pa.Table],
    app_token: str | None = None,
    stats: FetchStats | None = None,
    on_page: Callable[[FetchStats], None] | None = None,
) -> Any:
    """The Socrata source: ``incidents`` for the dataset at ``url`` plus the profile tables.

    Args:
        url: SODA resource URL (``.../resource/<id>.json``).
        plan: What to read (see :class:`FetchPlan`).
        tables: The profile tables to replace (see ``ingestion.socrata.profile_tables``).
        app_token: Socrata app token (sent as a header, never logged).
        stats: Filled in with counts as the extraction runs.
        on_page: Called after each page (progress display).
    """
    stats = stats if stats is not None else FetchStats()
    dataset = plan.dataset

    @dlt.resource(
        name=INCIDENTS_TABLE,
        primary_key=dataset.key,
        write_disposition="merge",
        columns={dataset.key: {"data_type": "text", "nullable": False}},
    )
    def incidents() -> Iterator[Any]:
        # dlt restored the schema from the destination before extracting: raw's columns.
        known = dlt.current.source_schema().tables.get(INCIDENTS_TABLE, {}).get("columns")
        raw_columns = set(known) if known else None
        cursors = source_cursors(dlt.current.resource_state(), plan.source_id)
        last = None if plan.full_refresh else cursors.get(plan.source_id)
        since = lookback_start(last, dataset.lookback)
        until = plan.bounds.cursor_before
        where = build_where(dataset, plan.start_date, since=since, until=until)
        stats.source, stats.where, stats.cursor_before = redact(url), where, last

        quarantine = FetchQuarantine(dataset, plan.bounds)
        client = SodaClient(url, dataset, app_token=app_token)
        fetched_columns: set[str] = set()
        try:
            for page in client.pages(where):
                quarantine.add_page(page)
                stats.pages += 1
                stats.fetched = quarantine.fetched
                stats.rejected = len(quarantine.rejections)
                stats.retries = client.retries
                if on_page is not None:
                    on_page(stats)
        finally:
            stats.retries = client.retries
            client.close()
        if plan.first_load and not quarantine.fetched:
            raise NoIncidentsError(
                f"no incidents between {plan.start_date} and {plan.bounds.as_of} at "
                f"{stats.source}; check BLOTTER_START_DATE and the source"
            )

        for table in quarantine.tables():
            stats.accepted += table.num_rows
            fetched_columns.update(map(api_name, table.column_names))
            yield table.append_column(
                SOURCE_COLUMN, pa.repeat(pa.scalar(plan.source_id, pa.string()), table.num_rows)
            )
        stats.duplicates = quarantine.duplicates
        stats.rejected = len(quarantine.rejections)
        stats.quarantined_future = quarantine.future
        if quarantine.rejections:
            table = rejected_table(quarantine.rejections, datetime.now(UTC))
            yield dlt.mark.with_hints(
                table, _rejected_hints(dataset.key), create_table_variant=True
            )
        stats.drift = detect_drift(
            dict(dataset.column_types),
            client.announced,
            quarantine.value_kinds,
            fetched_columns,
            raw_columns,
        )
        # Rows changed after the as-of were quarantined: the cursor never passes the as-of.
        best = quarantine.max_cursor
        if best and (last is None or best > last):
            cursors[plan.source_id] = best
        stats.cursor_after = cursors.get(plan.source_id)

    resources = [incidents]
    for name, table in tables.items():
        resources.append(dlt.resource([table], name=name, write_disposition="replace"))
    return resources
