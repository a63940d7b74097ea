"""Run the Socrata source into ``raw``: incidents (merge), rejections (append), profile tables.

Library code: every input is an explicit argument (orchestration reads the settings). Ingestion
knows no warehouse: the caller passes the dlt destination (the engine builds it) and dlt's
working directory ``state_dir`` (one per warehouse, so each has its own cursor state; dlt also
stores that state in the destination and restores it from there when the directory is lost).
Reads of the landing go through dlt's SQL client, so they work on every destination.

Environment variables read here: none of Blotter's. dlt reads its own configuration from
``DLT_*``/``RUNTIME__*``/``NORMALIZE__*``/``DATA_WRITER__*`` variables and ``.dlt/`` files;
:func:`_configure_dlt` fixes the few settings ingestion depends on (lineage columns on Arrow
items, telemetry off, finished load packages deleted).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dlt

from ingestion.errors import (
    IngestError,
    NoIncidentsError,
    SourceMismatchError,
    StartDateError,
    find_own,
    root_cause,
)
from ingestion.landing import check_landing, count_rows, describe_destination, read_landing
from ingestion.profiles import ProfileError, SourceProfile, load_profile
from ingestion.profiles.loader import DEMO_PROFILE
from ingestion.progress import progress_line
from ingestion.quarantine import clear_stale_spools
from ingestion.recovery import finish_interrupted_loads
from ingestion.socrata import INCIDENTS_TABLE, FetchPlan, FetchStats, socrata_source
from ingestion.socrata.client import SourceError
from ingestion.socrata.helpers import redact
from ingestion.socrata.profile_tables import profile_tables
from ingestion.socrata.settings import MAX_PAGE_SIZE, Bounds, DatasetSettings

PIPELINE_NAME = "socrata_incidents"
DATASET_NAME = "raw"
SPOOL_DIR = "spool"  # in dlt's working directory: the fetch's pages wait there (see quarantine)
log = logging.getLogger("blotter.ingestion")

__all__ = [
    "IngestError",
    "IngestResult",
    "NoIncidentsError",
    "SourceMismatchError",
    "StartDateError",
    "ingest",
]


@dataclass
class IngestResult:
    """Outcome of one ingestion run; ``fetched == loaded + rejected`` always holds."""

    fetched: int
    loaded: int
    rejected: int
    load_id: str | None
    seconds: float
    source: str
    source_id: str = ""
    profile: str = ""
    as_of: str | None = None
    raw_rows: int | None = None
    duplicates: int = 0
    quarantined_future: int = 0
    pages: int = 0
    retries: int = 0
    cursor: str | None = None
    full_refresh: bool = False
    new_warehouse: bool = False
    drift: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # loads an interrupted run left pending

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _configure_dlt() -> None:
    # The source adds the lineage columns to its Arrow items itself (socrata.with_lineage), so
    # the normalize step imports the extracted files instead of rewriting them.
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = False
    dlt.config["normalize.parquet_normalizer.add_dlt_id"] = False
    # No internet here, and nothing to report anyway.
    dlt.config["runtime.dlthub_telemetry"] = False
    # Finished load packages are only disk usage.
    dlt.config["load.delete_completed_jobs"] = True


def _resolve(source_url: str | None, profile: SourceProfile | str | None) -> SourceProfile:
    try:
        if isinstance(profile, SourceProfile):
            return profile
        return load_profile(profile or source_url or "demo")
    except ProfileError as exc:
        raise IngestError(str(exc), exit_code=2) from None


def ingest(
    source_url: str | None,
    state_dir: Path,
    start_date: date,
    as_of: date | None = None,
    full_refresh: bool = False,
    app_token: str | None = None,
    faults: tuple[str, ...] = (),
    show_progress: bool = True,
    destination: Any = None,
    page_size: int | None = None,
    *,
    profile: SourceProfile | str | None = None,
) -> IngestResult:
    """Land new and changed incidents from a SODA dataset.

    Args:
        source_url: SODA resource URL to read (``URL#profile`` names the profile), or None:
            the profile's own URL, or the in-process replay API for the demo profile.
        state_dir: dlt's working directory for this warehouse (``pipelines_dir``); created.
        start_date: First incident day loaded (the backfill's start).
        as_of: Pretend today is this day (default: today in the profile's timezone). Nothing
            that happened or changed after the end of that local day is landed.
        full_refresh: Forget the cursor and re-read everything from ``start_date``, merging
            (raw never loses a record; a new start date is recorded).
        app_token: Socrata app token (header only; never logged).
        faults: Faults the in-process replay API injects (ignored for a real portal).
        show_progress: Show a live status line on stderr.
        destination: The dlt destination of the warehouse's raw landing (required; the
            engine builds it).
        page_size: Rows per request instead of the default (tests, slow portals).
        profile: The source profile (or its name); default: the one ``source_url`` implies.

    Raises:
        IngestError: one line with the root cause; ``exit_code`` is 2 for operator mistakes
            (:class:`SourceMismatchError`, :class:`StartDateError`, an unknown source).
    """
    resolved = _resolve(source_url, profile)
    url = source_url.partition("#")[0] if source_url else resolved.url
    today = resolved.today()
    if as_of is not None and as_of > today:
        raise StartDateError(
            f"as-of {as_of} is after today ({today} in {resolved.timezone}): "
            "future records cannot be landed; use a date up to today"
        )
    day = as_of or today
    if start_date > day:
        raise StartDateError(
            f"BLOTTER_START_DATE {start_date} is after the as-of {day}: nothing can be "
            "loaded; use an earlier start date"
        )
    if page_size is not None and not 0 < page_size <= MAX_PAGE_SIZE:
        raise IngestError(f"page size {page_size} is not between 1 and {MAX_PAGE_SIZE}")
    if destination is None:
        raise IngestError("ingest needs a dlt destination: the engine builds it for the target")
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IngestError(f"cannot create {state_dir}: {exc.strerror}", 2) from None
    run = dict(
        profile=resolved,
        state_dir=state_dir,
        start_date=start_date,
        as_of=day,
        full_refresh=full_refresh,
        app_token=app_token,
        show_progress=show_progress,
        destination=destination,
        dataset=DatasetSettings.from_profile(resolved, page_size),
    )
    if url is not None:
        return _run(url, **run)
    if resolved.name != DEMO_PROFILE:
        raise IngestError(
            f"profile {resolved.name} has no URL: serve a file with `blotter demo-api "
            f"--from-file PATH --profile {resolved.name}` and ingest from the URL it prints",
            exit_code=2,
        )
    # The demo is the embedded default: the replay API (a separate package, not part of the
    # dlt source) is started here, in-process, for the run's as-of day.
    from replay.server import running_replay

    with running_replay(as_of=day, faults=faults) as replay_url:
        return _run(replay_url, **run)


def _run(
    url: str,
    *,
    profile: SourceProfile,
    state_dir: Path,
    start_date: date,
    as_of: date,
    full_refresh: bool,
    app_token: str | None,
    show_progress: bool,
    destination: Any,
    dataset: DatasetSettings,
) -> IngestResult:
    started = time.perf_counter()
    safe_url, source_id = redact(url), profile.source_id(url)
    _configure_dlt()
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(state_dir),
        destination=destination,
        dataset_name=DATASET_NAME,
    )
    where = describe_destination(pipeline)
    # First, so that the landing read below (append or merge?) sees the finished load.
    recovered = finish_interrupted_loads(pipeline, state_dir)
    try:
        landing = read_landing(pipeline)
    except Exception as exc:
        raise IngestError(f"cannot read the warehouse {where}: {root_cause(exc)}") from exc
    check_landing(landing, source_id, profile.name, start_date, full_refresh, where, profile.key)
    if landing.is_new:
        log.warning("new warehouse: %s holds no raw landing; backfilling %s", where, source_id)
    plan = FetchPlan(
        dataset=dataset,
        start_date=start_date,
        bounds=Bounds.for_day(profile, as_of),
        source_id=source_id,
        full_refresh=full_refresh,
        first_load=not landing.has_incidents,
        spool=clear_stale_spools(state_dir / SPOOL_DIR),
    )
    stats = FetchStats(source=safe_url)
    tables = profile_tables(profile, source_id, safe_url, start_date)
    with progress_line(show_progress, safe_url) as say:

        def on_page(s: FetchStats) -> None:
            say(f"fetched {s.fetched:,} rows in {s.pages} pages ({s.rejected:,} rejected so far)")

        source = socrata_source(
            url, plan, tables, app_token=app_token, stats=stats, on_page=on_page
        )
        if not landing.has_incidents:
            # Nothing to merge into (rows are unique per key already): a plain append
            # skips the staging-table merge, which is most of a big backfill's load time.
            source.resources[INCIDENTS_TABLE].apply_hints(write_disposition="append")
        try:
            if pipeline.has_pending_data:  # dlt would load it instead of extracting: refuse
                raise IngestError(f"a load is still pending in {state_dir}: rerun the ingest")
            info = pipeline.run(source)
            say(f"loaded; counting rows in {DATASET_NAME}.{INCIDENTS_TABLE}")
            load_id = info.loads_ids[-1] if info.loads_ids else None
            loaded, raw_rows = count_rows(pipeline, load_id)
        except Exception as exc:
            own = find_own(exc, IngestError, SourceError)
            if isinstance(own, IngestError):
                raise own from None
            if own is not None:
                raise IngestError(str(own)) from None
            raise IngestError(f"loading {safe_url} into {where} failed: {root_cause(exc)}") from exc
    if loaded != stats.accepted:
        # Each accepted row has a unique key, so the merge writes exactly that many rows.
        raise IngestError(
            f"accounting mismatch: {stats.accepted} rows accepted but {loaded} written by "
            f"{load_id}: inspect raw.incidents where _dlt_load_id = '{load_id}' before rerunning"
        )
    for line in stats.drift:
        log.warning("schema drift at %s: %s", safe_url, line)
    if plan.first_load and not raw_rows:
        raise NoIncidentsError(
            f"no valid incidents between {start_date} and {as_of} at {safe_url}: all "
            f"{stats.fetched} fetched records were rejected (see raw.incidents_rejected)"
        )
    return IngestResult(
        fetched=stats.fetched,
        loaded=loaded,
        rejected=stats.rejected,
        load_id=load_id,
        seconds=round(time.perf_counter() - started, 3),
        source=safe_url,
        source_id=source_id,
        profile=profile.name,
        as_of=as_of.isoformat(),
        raw_rows=raw_rows,
        duplicates=stats.duplicates,
        quarantined_future=stats.quarantined_future,
        pages=stats.pages,
        retries=stats.retries,
        cursor=stats.cursor_after,
        full_refresh=full_refresh,
        new_warehouse=landing.is_new,
        drift=stats.drift,
        recovered=[done.describe() for done in recovered],
    )
