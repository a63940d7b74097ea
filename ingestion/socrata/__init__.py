"""dlt source for one SODA (Socrata) dataset: incremental on ``:updated_at``, Arrow pages.

The ``incidents`` resource reads every record changed since the stored cursor (minus the
dataset's look-back window) and whose incident date is on or after ``start_date``, validates
each page, and yields text-only Arrow tables merged on the dataset key into ``incidents``.
Rejected records are dispatched to ``incidents_rejected`` (append) by the same resource.
The cursor lives in the resource's dlt state, so it is committed together with the load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import dlt

from ingestion.quarantine import FetchQuarantine, rejected_table
from ingestion.socrata.helpers import SodaClient, build_where, lookback_start, redact
from ingestion.socrata.settings import DatasetSettings

INCIDENTS_TABLE = "incidents"
REJECTED_TABLE = "incidents_rejected"
STATE_CURSOR = "last_cursor"


@dataclass
class FetchStats:
    """What one extraction saw; filled in by the resource, read by the pipeline."""

    source: str = ""
    where: str = ""
    fetched: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    pages: int = 0
    retries: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None


def _rejected_hints(key: str) -> Any:
    # The rejected table must not inherit the resource's merge key: its key may be null.
    return dlt.mark.make_hints(
        table_name=REJECTED_TABLE,
        write_disposition="append",
        primary_key=[],
        columns={key: {"data_type": "text", "nullable": True, "primary_key": False}},
    )


@dlt.source(name="socrata", max_table_nesting=0)
def socrata_source(
    url: str,
    dataset: DatasetSettings,
    start_date: date,
    app_token: str | None = None,
    until: datetime | None = None,
    stats: FetchStats | None = None,
    on_page: Callable[[FetchStats], None] | None = None,
) -> Any:
    """The Socrata source: one ``incidents`` resource for the dataset at ``url``.

    Args:
        url: SODA resource URL (``.../resource/<id>.json``).
        dataset: Key, cursor, paging and look-back settings of that dataset.
        start_date: Incidents before this day are never requested.
        app_token: Socrata app token (sent as a header, never logged).
        until: Optional exclusive upper bound on the cursor (end of the ``--as-of`` day, UTC).
        stats: Filled in with counts as the extraction runs.
        on_page: Called after each page (progress display).
    """
    stats = stats if stats is not None else FetchStats()

    @dlt.resource(
        name=INCIDENTS_TABLE,
        primary_key=dataset.key,
        write_disposition="merge",
        columns={dataset.key: {"data_type": "text", "nullable": False}},
    )
    def incidents() -> Iterator[Any]:
        state = dlt.current.resource_state()
        last = state.get(STATE_CURSOR)
        since = lookback_start(last, dataset.lookback)
        where = build_where(dataset, start_date, since=since, until=until)
        stats.source, stats.where, stats.cursor_before = redact(url), where, last

        quarantine = FetchQuarantine(dataset)
        client = SodaClient(url, dataset, app_token=app_token)
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

        for table in quarantine.tables():
            stats.accepted += table.num_rows
            yield table
        stats.duplicates = quarantine.duplicates
        stats.rejected = len(quarantine.rejections)
        if quarantine.rejections:
            table = rejected_table(quarantine.rejections, datetime.now(UTC))
            yield dlt.mark.with_hints(
                table, _rejected_hints(dataset.key), create_table_variant=True
            )
        if quarantine.max_cursor and (last is None or quarantine.max_cursor > last):
            state[STATE_CURSOR] = quarantine.max_cursor
        stats.cursor_after = state.get(STATE_CURSOR)

    return incidents
