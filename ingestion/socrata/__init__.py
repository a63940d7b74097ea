"""dlt source for one SODA (Socrata) dataset: incremental on its cursor, Arrow pages.

The ``incidents`` resource reads every record changed since this source's stored cursor (minus
the profile's look-back) whose incident date is on or after ``start_date`` and that was known by
the end of the as-of day, validates each page, and yields text-only Arrow tables merged on the
profile's key into ``incidents``. Rejected records go to ``incidents_rejected`` (append) from
the same resource. The four profile tables are replaced on every run.

The cursor is a ``dlt.sources.incremental`` on the profile's cursor field (``:updated_at``), so
it lives in the resource's dlt state and is committed together with the load. The range is
pushed down to SoQL (``$where`` from the stored cursor minus the look-back, up to the end of the
as-of day) and the new cursor is set with ``Incremental.advance``: dlt never filters rows
itself, which keeps ``fetched == loaded + rejected`` exact (the look-back re-reads on purpose;
the merge on the key makes that idempotent). A warehouse whose cursor predates this (kept per
source id) has it adopted on its next run.

Environment variables read here: none (dlt's own configuration is set in ``pipeline.py``).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dlt
import numpy as np
import pyarrow as pa
from dlt.common.normalizers.utils import DLT_ID_LENGTH_BYTES
from dlt.common.schema.typing import TColumnSchema
from dlt.common.schema.utils import dlt_id_column, dlt_load_id_column

from ingestion.drift import detect_drift
from ingestion.errors import NoIncidentsError
from ingestion.quarantine import FetchQuarantine, rejected_table
from ingestion.socrata.client import SodaClient
from ingestion.socrata.helpers import build_where, lookback_start, redact
from ingestion.socrata.settings import Bounds, DatasetSettings
from ingestion.validation import api_name, column_name

INCIDENTS_TABLE = "incidents"
REJECTED_TABLE = "incidents_rejected"
SOURCE_COLUMN = "_blotter_source"
# dlt's lineage columns, with dlt's own definitions (what its normalizer would have added).
LINEAGE: dict[str, TColumnSchema] = {
    "_dlt_load_id": dlt_load_id_column(),
    "_dlt_id": dlt_id_column(),
}
LEGACY_CURSORS = "cursors"  # source id -> last cursor, before dlt.sources.incremental
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
        spool: Where the fetch keeps its pages on disk until duplicates are resolved
            (default: the system's temporary directory).
    """

    dataset: DatasetSettings
    start_date: date
    bounds: Bounds
    source_id: str
    full_refresh: bool = False
    first_load: bool = False
    spool: Path | None = None


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


def with_lineage(table: pa.Table) -> pa.Table:
    """``table`` with dlt's lineage columns appended: this load's id and a random row id.

    Made here, at extract, instead of by dlt's Arrow normalizer (off, see ``pipeline.py``):
    an extracted file that needs no new column is then imported by the normalize step as it
    is, where adding ``_dlt_id`` meant reading and rewriting every extracted file.
    """
    load_id = dlt.current.load_package_state()["load_id"]
    string = pa.string()
    columns = {
        "_dlt_load_id": pa.repeat(pa.scalar(load_id, string), table.num_rows),
        "_dlt_id": dlt_ids(table.num_rows),
    }
    for name, values in columns.items():
        table = table.append_column(pa.field(name, string, nullable=False), values)
    return table


def dlt_ids(rows: int) -> pa.Array:
    """``rows`` ids as dlt's ``generate_dlt_ids`` makes them (base64 of 10 random bytes, no
    padding: 14 characters), encoded in one ``b64encode`` call instead of one per row."""
    width = DLT_ID_LENGTH_BYTES
    if width != 10:  # the encoding below assumes 10 bytes -> 14 characters
        raise RuntimeError(f"dlt's row ids are {width} bytes now: update ingestion.socrata")
    # Each id padded to 12 bytes encodes to 16 characters on its own, so one b64encode of all
    # of them holds every id's 14 characters (the two padding bytes only fill the last two).
    padded = np.zeros((rows, 12), np.uint8)
    padded[:, :width] = np.frombuffer(secrets.token_bytes(rows * width), np.uint8).reshape(-1, 10)
    text = np.frombuffer(base64.b64encode(padded.tobytes()), np.uint8).reshape(rows, 16)[:, :14]
    offsets = np.arange(0, 14 * rows + 1, 14, dtype=np.int32)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(text.tobytes()))


def _lineaged(table: pa.Table) -> Iterator[pa.Table]:
    yield with_lineage(table)  # at extract: the load id exists only then


def _rejected_hints(key: str) -> Any:
    # The rejected table must not inherit the resource's merge key: its key may be null.
    return dlt.mark.make_hints(
        table_name=REJECTED_TABLE,
        write_disposition="append",
        primary_key=[],
        columns={
            key: {"data_type": "text", "nullable": True, "primary_key": False},
            **LINEAGE,
        },
    )


def adopt_legacy_cursor(state: dict[str, Any], source_id: str) -> str | None:
    """The cursor an older Blotter stored for ``source_id`` (removed from ``state``), or None.

    Before ``dlt.sources.incremental`` the cursor was kept per source id (and before that, once
    per pipeline); the checked source adopts its own, never another source's.
    """
    cursors = state.pop(LEGACY_CURSORS, {})
    single = state.pop(LEGACY_CURSOR, None)
    return cursors.get(source_id) or single


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
    # dlt binds the resource's incremental argument to the resource's state when it runs.
    cursor = dlt.sources.incremental(
        column_name(dataset.cursor), last_value_func=max, primary_key=()
    )

    @dlt.resource(
        name=INCIDENTS_TABLE,
        primary_key=dataset.key,
        write_disposition="merge",
        columns={dataset.key: {"data_type": "text", "nullable": False}, **LINEAGE},
    )
    def incidents(updated: dlt.sources.incremental[str] = cursor) -> Iterator[Any]:
        # dlt restored the schema from the destination before extracting: raw's columns.
        known = dlt.current.source_schema().tables.get(INCIDENTS_TABLE, {}).get("columns")
        raw_columns = set(known) if known else None
        legacy = adopt_legacy_cursor(dlt.current.resource_state(), plan.source_id)
        stored = updated.last_value or legacy
        last = None if plan.full_refresh else stored
        since = lookback_start(last, dataset.lookback)
        until = plan.bounds.cursor_before
        where = build_where(dataset, plan.start_date, since=since, until=until)
        stats.source, stats.where, stats.cursor_before = redact(url), where, last

        def landed(table: pa.Table) -> pa.Table:
            # At spool time (the load id exists: this runs inside dlt's extract), so the
            # spooled pages are the very files the load inserts.
            source = pa.repeat(pa.scalar(plan.source_id, pa.string()), table.num_rows)
            return with_lineage(table.append_column(SOURCE_COLUMN, source))

        quarantine = FetchQuarantine(dataset, plan.bounds, spool=plan.spool, landed=landed)
        client = SodaClient(url, dataset, app_token=app_token, workdir=quarantine.workdir)
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
            if plan.first_load and not quarantine.fetched:
                raise NoIncidentsError(
                    f"no incidents between {plan.start_date} and {plan.bounds.as_of} at "
                    f"{stats.source}; check BLOTTER_START_DATE and the source"
                )
        except BaseException:
            quarantine.close()
            raise
        finally:
            stats.retries = client.retries
            client.close()

        # Rows changed after the as-of were quarantined: the cursor never passes the as-of.
        # The range was applied in $where, so dlt records the cursor without filtering rows.
        after = max(filter(None, (quarantine.max_cursor, stored)), default=None)
        updated.advance(after)  # type: ignore[arg-type]  # None: no new cursor, still no filter
        stats.cursor_after = after
        for path, rows, schema in quarantine.files():
            stats.accepted += rows
            # The schema's empty table gives dlt the columns it inferred from the Arrow pages.
            yield dlt.mark.with_file_import(str(path), "parquet", rows, hints=schema.empty_table())
        for rows, names in quarantine.pages_kept():
            if rows:
                fetched_columns.update(map(api_name, names))
        stats.duplicates = quarantine.duplicates
        stats.rejected = len(quarantine.rejections)
        stats.quarantined_future = quarantine.future
        if quarantine.rejections:
            table = with_lineage(rejected_table(quarantine.rejections, datetime.now(UTC)))
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

    resources = [incidents]
    for name, table in tables.items():
        resources.append(
            dlt.resource(_lineaged(table), name=name, write_disposition="replace", columns=LINEAGE)
        )
    return resources
