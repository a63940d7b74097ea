"""The run ledger: one row per ``blotter run`` in the warehouse table ``ops.run_ledger``.

A row is inserted with status ``running`` when a run starts and updated to ``succeeded`` or
``failed`` when it ends, so a run killed half-way still leaves a trace. Such a row is turned into
``abandoned`` (with the pid and host that never finished) by the next writing command, which
holds the run lock and therefore knows that no run is alive (``orchestration.lock``). The ledger
lives outside the published schemas: write-audit-publish never rolls it back.

Where the rows are stored is the engine's business (``Engine.ledger()``, an
``engines.base.LedgerStore``); every function here takes that store, or the path of a local
warehouse file (``engines.local_ledger``).

Environment variables read here: none (the store is passed in).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from engines import LedgerStore, WarehouseError, local_ledger
from engines.errors import TransientError

STATUSES = ("running", "succeeded", "failed", "abandoned")
Where = LedgerStore | Path


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

    def row(self) -> dict[str, Any]:
        """The stored form (JSON columns as text)."""
        values = asdict(self)
        values["steps"] = json.dumps(self.steps, default=str)
        values["failing_tests"] = json.dumps(self.failing_tests)
        values["notes"] = json.dumps(self.notes)
        return values


def _store(where: Where) -> LedgerStore:
    return local_ledger(where) if isinstance(where, Path) else where


def record(where: Where, run: RunRecord) -> None:
    """Insert or update ``run`` (keyed by ``run_id``)."""
    if run.status not in STATUSES:
        raise ValueError(f"status {run.status!r} is not one of {', '.join(STATUSES)}")
    _store(where).upsert(run.row())


def recent(where: Where, limit: int = 20) -> list[dict[str, Any]]:
    """The ``limit`` most recent runs, newest first, as JSON-ready dicts.

    A missing warehouse file means no runs yet (an empty list), not an error.
    """
    runs = _store(where).rows(limit)
    for run in runs:
        run["steps"] = json.loads(run["steps"]) if run["steps"] else {}
        run["failing_tests"] = json.loads(run["failing_tests"]) if run["failing_tests"] else []
        run["notes"] = json.loads(run["notes"]) if run["notes"] else []
        for key in ("as_of", "started_at", "ended_at"):
            if run[key] is not None:
                run[key] = run[key].isoformat()
    return runs


def reconcile(where: Where, now: datetime | None = None) -> list[str]:
    """Mark every ``running`` row ``abandoned``, with a reason naming the process that left it.

    Only call this while holding the run lock: then no other run is alive, so a ``running`` row
    is a run that was killed (or lost its machine) before it could record its end.

    Returns:
        The run ids that were abandoned.
    """
    store = _store(where)
    now = now or datetime.now(UTC)
    stale = store.rows(100_000, status="running")
    for row in stale:
        steps = json.loads(row["steps"]) if row["steps"] else {}
        died_in = [n for n, s in steps.items() if s.get("status") == "running"]
        for name in died_in:
            steps[name] = {"status": "abandoned"}
        pid, host = row["pid"], row["host"]
        who = f"process {pid} on {host}" if pid is not None else "the process"
        during = f" during step {died_in[0]}" if died_in else ""
        reason = (
            f"{who} ended without finishing{during} (killed?); started "
            f"{row['started_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC, found abandoned by the "
            "next run"
        )
        store.abandon(row["run_id"], now, json.dumps(steps), reason)
    return [row["run_id"] for row in stale]


def last_published_as_of(where: Where) -> date | None:
    """The as-of of the newest run whose publish step committed, or None.

    Commands that rebuild what is published (rekey, forecast, model approve) reuse its data
    cutoff. A run killed or failed after its publish (e.g. in docs) still published its as-of.
    An unreadable warehouse gives None: the command itself then reports it.
    """
    try:
        runs = recent(where, 1000)
    except (WarehouseError, TransientError):
        return None
    published = [
        r
        for r in runs
        if r["status"] == "succeeded" or r["steps"].get("publish", {}).get("status") == "succeeded"
    ]
    return date.fromisoformat(published[0]["as_of"]) if published else None
