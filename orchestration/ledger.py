"""The run ledger: one row per ``blotter run`` in the warehouse table ``ops.run_ledger``.

A row is inserted with status ``running`` when a run starts and updated to ``succeeded`` or
``failed`` when it ends, so a run killed half-way still leaves a trace. The ledger lives outside
the published schemas: write-audit-publish never rolls it back.

Environment variables read here: none (the warehouse path is passed in).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "ops"
TABLE = "run_ledger"
STATUSES = ("running", "succeeded", "failed")

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
)


@dataclass
class RunRecord:
    """One ledger row. ``steps`` maps step name → {status, attempts, seconds, error}."""

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

    def params(self) -> list[Any]:
        """Bind parameters in ``_COLUMNS`` order."""
        values = asdict(self)
        values["steps"] = json.dumps(self.steps, default=str)
        values["failing_tests"] = json.dumps(self.failing_tests)
        return [values[c] for c in _COLUMNS]


def _connect(duckdb_path: Path, wait_seconds: float = 15.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, waiting out short read locks (e.g. the dashboard's)."""
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
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
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [SCHEMA, TABLE],
        ).fetchone()
        if not exists or not exists[0]:
            return []
        cur = con.execute(
            f"select {', '.join(_COLUMNS)} from {SCHEMA}.{TABLE} "
            "order by started_at desc, run_id desc limit ?",
            [limit],
        )
        rows = cur.fetchall()
    runs = []
    for row in rows:
        run = dict(zip(_COLUMNS, row, strict=True))
        run["steps"] = json.loads(run["steps"]) if run["steps"] else {}
        run["failing_tests"] = json.loads(run["failing_tests"]) if run["failing_tests"] else []
        for key in ("as_of", "started_at", "ended_at"):
            if run[key] is not None:
                run[key] = run[key].isoformat()
        runs.append(run)
    return runs
