"""Finish a load an earlier run left unfinished, so that raw holds each of its rows once.

dlt loads at least once: a run killed after a load job's insert committed but before dlt
marked the job done leaves a pending load package, and dlt re-runs that job when the package
is loaded again. On DuckDB the job is ``INSERT … FROM read_parquet``: an appended table
(``incidents`` in a backfill, ``incidents_rejected``, the replaced profile tables, dlt's state)
then holds the job's rows twice. A merge deduplicates on the key, so ``incidents`` after the
first load is safe. (BigQuery names each load job after its file, so a re-run finds the
committed job instead of loading again: its copies cannot happen; the checks below still run.)

So before an ingest extracts anything, :func:`finish_interrupted_loads` loads the pending
packages itself (dropping them would lose their rows: the cursor was saved when they were
extracted) and then, per table of each package, keeps one copy of every row of that load id
(the copies share ``_dlt_id``), in one transaction that checks the table then holds exactly the
package's rows. A marker file in dlt's working directory, written before the load and removed
after the check, carries the package's row counts across a kill between the two: until the
check passes, every ingest repeats it or stops.

Environment variables read here: none.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ingestion.errors import IngestError, find_own, root_cause

MARKER = "interrupted_loads.json"  # in dlt's working directory (the state_dir of ingest)
LOADS_TABLE = "_dlt_loads"
log = logging.getLogger("blotter.ingestion")


@dataclass(frozen=True)
class Recovered:
    """One finished package: its load id, rows per table, copies removed per table."""

    load_id: str
    rows: dict[str, int | None]
    removed: dict[str, int]

    def describe(self) -> str:
        counted = ", ".join(f"{t} {n:,}" for t, n in sorted(self.rows.items()) if n is not None)
        copies = sum(self.removed.values())
        return (
            f"finished load {self.load_id} that an interrupted run left pending ({counted}); "
            f"{copies:,} duplicate rows its re-run inserted were removed"
        )


def package_rows(pipeline: Any, load_id: str) -> dict[str, int | None]:
    """Rows per table in the pending package ``load_id``'s files (None: not a parquet file).

    Read before loading: dlt deletes a package's files once it is loaded.
    """
    rows: dict[str, int | None] = {}
    for jobs in pipeline.get_load_package_info(load_id).jobs.values():
        for job in jobs:
            table = job.job_file_info.table_name
            if job.job_file_info.file_format == "parquet" and rows.get(table, 0) is not None:
                rows[table] = rows.get(table, 0) + pq.ParquetFile(job.file_path).metadata.num_rows
            else:
                rows[table] = None  # dlt's own state row, written as SQL: checked for copies
    return rows


def _write_marker(path: Path, loads: dict[str, dict[str, int | None]]) -> None:
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(loads, indent=1, sort_keys=True))
    os.replace(scratch, path)  # a kill leaves the old marker or the new one, never half


def _read_marker(path: Path) -> dict[str, dict[str, int | None]]:
    if not path.exists():
        return {}
    try:
        loads = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise IngestError(
            f"cannot read {path} (an interrupted load's row counts): {exc}; restore it or "
            "check raw for duplicate copies of the newest load id, then delete it"
        ) from None
    return {str(load): dict(rows) for load, rows in loads.items()}


def finish_interrupted_loads(pipeline: Any, state_dir: Path) -> list[Recovered]:
    """Load the packages an earlier run left pending and remove the copies its re-run made.

    Raises:
        IngestError: the pending load failed again, or a table does not hold exactly the
            package's rows once (and the copies could not be removed here); the marker stays,
            so every later ingest stops the same way until it is resolved.
    """
    marker = state_dir / MARKER
    loads = _read_marker(marker)
    try:
        if pipeline.list_extracted_load_packages():
            pipeline.normalize()
        pending = pipeline.list_normalized_load_packages()
        for load_id in pending:
            loads.setdefault(load_id, package_rows(pipeline, load_id))
        if pending:
            _write_marker(marker, loads)
            log.warning("an earlier run left load(s) %s pending: loading them", ", ".join(pending))
            pipeline.load()
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(
            f"cannot finish the load an interrupted run left pending: {root_cause(exc)}; "
            "fix that and rerun (the pending load is kept and retried first)"
        ) from exc
    # A later load may replace an earlier one's rows (profile tables, merged keys): the row
    # counts are exact for the newest pending load only, upper bounds for older ones.
    newest = max(loads, key=float, default=None)
    recovered = [
        _remove_copies(pipeline, load, rows, marker, exact=load == newest)
        for load, rows in sorted(loads.items(), key=lambda item: float(item[0]))
    ]
    if loads:
        marker.unlink()
    for done in recovered:
        log.warning("%s", done.describe())
    return recovered


def can_remove_copies(pipeline: Any) -> bool:
    """Whether equal rows can be told apart to delete one: DuckDB's ``rowid`` does that."""
    return bool(pipeline.destination.destination_type.endswith(".duckdb"))


def _remove_copies(
    pipeline: Any, load_id: str, rows: dict[str, int | None], marker: Path, exact: bool
) -> Recovered:
    """Keep one copy of each row of ``load_id`` in every table of its package, checked."""
    repairable = can_remove_copies(pipeline)
    removed: dict[str, int] = {}
    try:
        with pipeline.sql_client() as client, client.begin_transaction():
            for table, expected in sorted(rows.items()):
                name = client.make_qualified_table_name(table)
                removed[table] = _dedupe(client, name, load_id, repairable)
                found, distinct = _counts(client, name, load_id)
                bound = found if expected is None else expected
                if exact and found < bound:
                    raise IngestError(
                        f"raw.{table} holds {found:,} of the {bound:,} rows of load {load_id}, "
                        f"which an interrupted run left pending: delete {marker} and run "
                        "`blotter ingest --full-refresh` to re-read them"
                    )
                if found != distinct or found > bound:
                    raise IngestError(
                        f"raw.{table} holds {found:,} rows ({distinct:,} distinct) of load "
                        f"{load_id}, which an interrupted run left pending: delete the extra "
                        "copies (that load's rows sharing _dlt_id), then rerun"
                    )
            removed[LOADS_TABLE] = _dedupe_loads(client, load_id)
    except Exception as exc:
        own = find_own(exc, IngestError)
        if own is not None:
            raise own from None
        raise IngestError(
            f"cannot check load {load_id}, which an interrupted run left pending, for "
            f"duplicate rows: {root_cause(exc)}; fix that and rerun (the check is retried)"
        ) from exc
    return Recovered(load_id, rows, removed)


def _counts(client: Any, name: str, load_id: str) -> tuple[int, int]:
    """Rows of ``load_id`` in table ``name`` and distinct ``_dlt_id`` among them."""
    query = f"select count(*), count(distinct _dlt_id) from {name} where _dlt_load_id = %s"
    with client.execute_query(query, load_id) as cursor:
        found, distinct = cursor.fetchall()[0]
    return int(found), int(distinct)


def _dedupe(client: Any, name: str, load_id: str, repairable: bool) -> int:
    """Delete all but the first copy of each ``_dlt_id`` among ``load_id``'s rows in ``name``.

    Returns the rows deleted. Where equal rows cannot be told apart (not DuckDB, whose
    ``rowid`` can), nothing is deleted and the caller's count check stops the ingest.
    """
    found, distinct = _counts(client, name, load_id)
    if found == distinct or not repairable:
        return 0
    client.execute_sql(
        f"delete from {name} where _dlt_load_id = %s and rowid not in "
        f"(select min(rowid) from {name} where _dlt_load_id = %s group by _dlt_id)",
        load_id,
        load_id,
    )
    return found - distinct


def _dedupe_loads(client: Any, load_id: str) -> int:
    """Keep the first of dlt's records of ``load_id`` (a kill after dlt recorded the load, before
    it filed the package, makes dlt record it again, later); checks exactly one is left."""
    name = client.make_qualified_table_name(LOADS_TABLE)

    def count() -> int:
        with client.execute_query(f"select count(*) from {name} where load_id = %s", load_id) as c:
            return int(c.fetchall()[0][0])

    found = count()
    if found > 1:
        client.execute_sql(
            f"delete from {name} where load_id = %s and inserted_at > "
            f"(select min(inserted_at) from {name} where load_id = %s)",
            load_id,
            load_id,
        )
    left = count() if found > 1 else found
    if left != 1:
        raise IngestError(
            f"raw.{LOADS_TABLE} records load {load_id} {left} times after dlt finished it: "
            "keep exactly one of its rows, then rerun"
        )
    return found - left
