"""The run ledger: one row per ``blotter run`` in the warehouse table ``ops.run_ledger``.

A row is inserted with status ``running`` when a run starts and updated to ``succeeded`` or
``failed`` when it ends, so a run killed half-way still leaves a trace. Such a row is turned into
``abandoned`` (with the pid and host that never finished) by the next writing command, which
holds the run lock and therefore knows that no run is alive (``orchestration.lock``). The ledger
lives outside the published schemas: write-audit-publish never rolls it back.

Environment variables read here: none (the warehouse path is passed in).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "ops"
TABLE = "run_ledger"
STATUSES = ("running", "succeeded", "failed", "abandoned")
# How long a write waits out another process's short hold on the file (the dashboard's reads).
LOCK_WAIT_SECONDS = 15.0

_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.{TABLE} (
    run_id varchar primary key,
    as_of date not null,
    target varchar not null,
    status varchar not null,
    steps json,
    started_at timestamp with time zone not null,
    ended_at timestamp with time zone,
    rows_fetched bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    tests_passed integer,
    tests_failed integer,
    failing_tests json,
    error varchar
);
alter table {SCHEMA}.{TABLE} add column if not exists command varchar;
alter table {SCHEMA}.{TABLE} add column if not exists pid integer;
alter table {SCHEMA}.{TABLE} add column if not exists host varchar;
alter table {SCHEMA}.{TABLE} add column if not exists notes json;
"""
_COLUMNS = (
    "run_id",
    "as_of",
    "target",
    "status",
    "steps",
    "started_at",
    "ended_at",
    "rows_fetched",
    "rows_loaded",
    "rows_rejected",
    "tests_passed",
    "tests_failed",
    "failing_tests",
    "error",
    "command",
    "pid",
    "host",
    "notes",
)


@dataclass
class RunRecord:
    """One ledger row.

    ``steps`` maps step name → {status, attempts, seconds, error}; ``notes`` holds what the
    operator should know although the run went on (a new warehouse, source drift lines).
    """

    run_id: str
    as_of: date
    target: str
    status: str = "running"
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    rows_fetched: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    tests_passed: int | None = None
    tests_failed: int | None = None
    failing_tests: list[str] = field(default_factory=list)
    error: str | None = None
    command: str = "run"
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    notes: list[str] = field(default_factory=list)

    def params(self) -> list[Any]:
        """Bind parameters in ``_COLUMNS`` order."""
        values = asdict(self)
        values["steps"] = json.dumps(self.steps, default=str)
        values["failing_tests"] = json.dumps(self.failing_tests)
        values["notes"] = json.dumps(self.notes)
        return [values[c] for c in _COLUMNS]


def _connect(duckdb_path: Path, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, waiting out short read locks (e.g. the dashboard's).

    The directory must exist: whether a new warehouse may be created is decided before
    (``orchestration.warehouse_file``).
    """
    wait_seconds = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(duckdb_path))
            break
        except duckdb.IOException as exc:
            # A reader holding the file lock for a moment must not fail the whole run.
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
    con.execute(_DDL)
    return con


def record(duckdb_path: Path, run: RunRecord) -> None:
    """Insert or update ``run`` (keyed by ``run_id``)."""
    if run.status not in STATUSES:
        raise ValueError(f"status {run.status!r} is not one of {', '.join(STATUSES)}")
    placeholders = ", ".join("?" for _ in _COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "run_id")
    with _connect(duckdb_path) as con:
        con.execute(
            f"insert into {SCHEMA}.{TABLE} ({', '.join(_COLUMNS)}) values ({placeholders}) "
            f"on conflict (run_id) do update set {updates}",
            run.params(),
        )


def recent(duckdb_path: Path, limit: int = 20) -> list[dict[str, Any]]:
    """The ``limit`` most recent runs, newest first, as JSON-ready dicts.

    A missing warehouse file means no runs yet (an empty list), not an error.
    """
    if not duckdb_path.exists():
        return []
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        present = {
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                [SCHEMA, TABLE],
            ).fetchall()
        }
        if not present:
            return []
        # A ledger written by an older Blotter lacks the newer columns: read them as null.
        selected = ", ".join(c if c in present else f"null as {c}" for c in _COLUMNS)
        cur = con.execute(
            f"select {selected} from {SCHEMA}.{TABLE} "
            "order by started_at desc, run_id desc limit ?",
            [limit],
        )
        rows = cur.fetchall()
    runs = []
    for row in rows:
        run = dict(zip(_COLUMNS, row, strict=True))
        run["steps"] = json.loads(run["steps"]) if run["steps"] else {}
        run["failing_tests"] = json.loads(run["failing_tests"]) if run["failing_tests"] else []
        run["notes"] = json.loads(run["notes"]) if run["notes"] else []
        for key in ("as_of", "started_at", "ended_at"):
            if run[key] is not None:
                run[key] = run[key].isoformat()
        runs.append(run)
    return runs


def reconcile(duckdb_path: Path, now: datetime | None = None) -> list[str]:
    """Mark every ``running`` row ``abandoned``, with a reason naming the process that left it.

    Only call this while holding the run lock: then no other run is alive, so a ``running`` row
    is a run that was killed (or lost its machine) before it could record its end.

    Returns:
        The run ids that were abandoned.
    """
    if not duckdb_path.exists():
        return []
    now = now or datetime.now(UTC)
    with _connect(duckdb_path) as con:
        stale = con.execute(
            f"select run_id, pid, host, started_at, steps from {SCHEMA}.{TABLE} where status = ?",
            ["running"],
        ).fetchall()
        for run_id, pid, host, started_at, steps_json in stale:
            steps = json.loads(steps_json) if steps_json else {}
            died_in = [n for n, s in steps.items() if s.get("status") == "running"]
            for name in died_in:
                steps[name] = {"status": "abandoned"}
            who = f"process {pid} on {host}" if pid is not None else "the process"
            during = f" during step {died_in[0]}" if died_in else ""
            reason = (
                f"{who} ended without finishing{during} (killed?); started "
                f"{started_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, found abandoned by the next run"
            )
            con.execute(
                f"update {SCHEMA}.{TABLE} set status = ?, ended_at = ?, steps = ?, "
                "error = coalesce(error || '; ', '') || ? where run_id = ?",
                ["abandoned", now, json.dumps(steps), reason, run_id],
            )
    return [row[0] for row in stale]


def last_published_as_of(duckdb_path: Path) -> date | None:
    """The as-of of the newest run whose publish step committed, or None.

    Commands that rebuild what is published (rekey, forecast, model approve) reuse its data
    cutoff. A run killed or failed after its publish (e.g. in docs) still published its as-of.
    An unreadable warehouse gives None: the command itself then reports it.
    """
    try:
        runs = recent(duckdb_path, 1000)
    except duckdb.Error:
        return None
    published = [
        r
        for r in runs
        if r["status"] == "succeeded" or r["steps"].get("publish", {}).get("status") == "succeeded"
    ]
    return date.fromisoformat(published[0]["as_of"]) if published else None
