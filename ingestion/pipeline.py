"""Run the Socrata source into ``raw.incidents`` (merge) and ``raw.incidents_rejected`` (append).

Library code: every input is an explicit argument (orchestration reads the settings).
dlt keeps its working directory next to the DuckDB file (``<dir>/dlt_pipelines/<stem>``), so
each warehouse file has its own cursor state; dlt also stores that state in the destination.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import dlt
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ingestion.socrata import INCIDENTS_TABLE, FetchStats, socrata_source
from ingestion.socrata.helpers import SourceError, redact
from ingestion.socrata.settings import MAX_PAGE_SIZE, UnknownDatasetError, dataset_settings

PIPELINE_NAME = "socrata_incidents"
DATASET_NAME = "raw"


class IngestError(RuntimeError):
    """Ingestion failed; the message is one line, safe to print (never contains the token)."""


@dataclass
class IngestResult:
    """Outcome of one ingestion run; ``fetched == loaded + rejected`` always holds."""

    fetched: int
    loaded: int
    rejected: int
    load_id: str | None
    seconds: float
    source: str
    as_of: str | None = None
    raw_rows: int | None = None
    duplicates: int = 0
    pages: int = 0
    retries: int = 0
    cursor: str | None = None
    full_refresh: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _configure_dlt() -> None:
    # Arrow items get the lineage columns too (off by default for the parquet normalizer).
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True
    # No internet here, and nothing to report anyway.
    dlt.config["runtime.dlthub_telemetry"] = False
    # Finished load packages are only disk usage.
    dlt.config["load.delete_completed_jobs"] = True


def pipelines_dir_for(duckdb_path: Path) -> Path:
    """dlt's working directory for the warehouse file ``duckdb_path``."""
    return duckdb_path.parent / "dlt_pipelines" / duckdb_path.stem


def _unwrap(exc: BaseException) -> BaseException | None:
    """Find our own one-line error inside dlt's wrapped step exceptions."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, SourceError | UnknownDatasetError | IngestError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


@contextlib.contextmanager
def _progress(show: bool, source: str) -> Iterator[Any]:
    """A one-line live status on stderr; yields a ``(message) -> None`` updater."""
    if not show:
        yield lambda _message: None
        return
    console = Console(stderr=True)
    if not console.is_terminal:  # CI logs: plain lines instead of a live display
        yield lambda message: console.print(f"ingest: {message}", highlight=False)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"fetching {source}")
        yield lambda message: progress.update(task, description=message)


def _has_rows(pipeline: dlt.Pipeline) -> bool:
    """Whether ``raw.incidents`` exists and holds rows (False on a brand-new warehouse)."""
    try:
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(INCIDENTS_TABLE)
            with client.execute_query(f"select 1 from {table} limit 1") as cursor:
                return bool(cursor.fetchall())
    except Exception:  # no dataset or no table yet: nothing to merge into
        return False


def _count(pipeline: dlt.Pipeline, load_id: str | None) -> tuple[int, int]:
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


def ingest(
    source_url: str | None,
    duckdb_path: Path,
    start_date: date,
    as_of: date | None = None,
    full_refresh: bool = False,
    app_token: str | None = None,
    faults: tuple[str, ...] = (),
    show_progress: bool = True,
    destination: Any = None,
    page_size: int | None = None,
) -> IngestResult:
    """Land new and changed incidents from a SODA dataset.

    Args:
        source_url: SODA resource URL, or None to serve the replay API in-process.
        duckdb_path: Warehouse file (also locates dlt's working directory).
        start_date: First incident day loaded (the backfill's start).
        as_of: Pretend today is this day: passed to the in-process replay API, and the cursor
            is bounded at the end of that day in the dataset's timezone, so any portal (or a
            replay API started elsewhere) yields only what was known by then.
        full_refresh: Drop the landed tables and the cursor, then reload from ``start_date``.
        app_token: Socrata app token (header only; never logged).
        faults: Faults the in-process replay API injects (ignored for a real portal).
        show_progress: Show a live status line on stderr.
        destination: A dlt destination; defaults to DuckDB at ``duckdb_path``.
        page_size: Rows per request instead of the dataset's setting (tests, slow portals).

    Raises:
        IngestError: with a one-line message when the source or the load fails.
    """
    try:
        duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IngestError(f"cannot create {duckdb_path.parent}: {exc.strerror}") from None
    common = dict(
        duckdb_path=duckdb_path,
        start_date=start_date,
        as_of=as_of,
        full_refresh=full_refresh,
        app_token=app_token,
        show_progress=show_progress,
        destination=destination,
        page_size=page_size,
    )
    if source_url is None:
        from ingestion.replay.server import running_replay

        with running_replay(as_of=as_of, faults=faults) as url:
            return _run(url, **common)
    return _run(source_url, **common)


def _run(
    url: str,
    *,
    duckdb_path: Path,
    start_date: date,
    as_of: date | None,
    full_refresh: bool,
    app_token: str | None,
    show_progress: bool,
    destination: Any,
    page_size: int | None,
) -> IngestResult:
    started = time.perf_counter()
    safe_url = redact(url)
    try:
        dataset = dataset_settings(url)
    except UnknownDatasetError as exc:
        raise IngestError(str(exc)) from None
    # A portal cannot be asked "as of" a past day: bound the cursor at the end of that local
    # day instead (the same instant at which the replay API's as_of ends).
    until = dataset.end_of_day_utc(as_of) if as_of else None
    if page_size is not None:
        if not 0 < page_size <= MAX_PAGE_SIZE:
            raise IngestError(f"page size {page_size} is not between 1 and {MAX_PAGE_SIZE}")
        dataset = replace(dataset, page_size=page_size)
    _configure_dlt()
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir_for(duckdb_path)),
        destination=destination or dlt.destinations.duckdb(str(duckdb_path)),
        dataset_name=DATASET_NAME,
        progress=None,
    )
    stats = FetchStats(source=safe_url)
    with _progress(show_progress, safe_url) as say:

        def on_page(s: FetchStats) -> None:
            say(f"fetched {s.fetched:,} rows in {s.pages} pages ({s.rejected:,} rejected so far)")

        source = socrata_source(
            url,
            dataset,
            start_date,
            app_token=app_token,
            until=until,
            stats=stats,
            on_page=on_page,
        )
        try:
            if full_refresh or not _has_rows(pipeline):
                # Nothing to merge into (rows are unique per key already): a plain append
                # skips the staging-table merge, which is most of a big backfill's load time.
                source.resources[INCIDENTS_TABLE].apply_hints(write_disposition="append")
            info = pipeline.run(source, refresh="drop_sources" if full_refresh else None)
            say(f"loaded; counting rows in {DATASET_NAME}.{INCIDENTS_TABLE}")
            load_id = info.loads_ids[-1] if info.loads_ids else None
            loaded, raw_rows = _count(pipeline, load_id)
        except Exception as exc:
            ours = _unwrap(exc)
            if ours is not None:
                raise IngestError(str(ours)) from None
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise IngestError(f"loading {safe_url} failed: {first_line}") from exc
    if loaded != stats.accepted:
        # Each accepted row has a unique key, so the merge writes exactly that many rows.
        raise IngestError(
            f"accounting mismatch: {stats.accepted} rows accepted but {loaded} written by {load_id}"
        )
    return IngestResult(
        fetched=stats.fetched,
        loaded=loaded,
        rejected=stats.rejected,
        load_id=load_id,
        seconds=round(time.perf_counter() - started, 3),
        source=safe_url,
        as_of=as_of.isoformat() if as_of else None,
        raw_rows=raw_rows,
        duplicates=stats.duplicates,
        pages=stats.pages,
        retries=stats.retries,
        cursor=stats.cursor_after,
        full_refresh=full_refresh,
    )
