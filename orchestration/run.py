"""The daily graph of ``blotter run``: ingest → audit build → forecast → ML build → publish → docs.

Each step is retried (tenacity) when it fails with a typed ``TransientError`` (network, lock,
timeout; ``engines.errors``), wherever dlt or dbt wrapped it; a permanent
failure (a failed test, a broken model, bad data) stops every downstream step, which the ledger
records as ``skipped``. The run is recorded in ``ops.run_ledger`` when it starts and when it ends,
and a notification goes to ``BLOTTER_NOTIFY_WEBHOOK`` (if set) either way.

Environment variables read here: none directly; ``orchestration.settings`` reads ``BLOTTER_*``
and the values are passed down (see :class:`RunContext`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from engines.base import Engine, LedgerStore
from orchestration import ledger, notify
from orchestration.errors import TransientError, describe, is_transient
from orchestration.logs import get_logger
from orchestration.retry import retry_policy
from orchestration.settings import Settings

log = get_logger("run")

STEP_NAMES = ("ingest", "build_warehouse", "forecast", "build_ml", "publish", "docs")
__all__ = [
    "RunContext",
    "RunSummary",
    "TransientError",
    "execute",
    "is_transient",
    "new_run_id",
    "retry_policy",
]


@dataclass
class RunContext:
    """Everything a step needs; steps put their outputs in ``outputs``."""

    run_id: str
    as_of: date
    target: str
    settings: Settings
    log_format: str = "text"
    outputs: dict[str, Any] = field(default_factory=dict)
    command: str = "run"
    full_refresh: bool = False
    notes: list[str] = field(default_factory=list)
    # None: every published schema (the daily run); forecasting commands publish marts and ml.
    publish_schemas: tuple[str, ...] | None = None
    # The target's engine; built from the settings on first use when not given.
    given_engine: Engine | None = field(default=None, repr=False)
    # dbt's parsed project, keyed by "audit" (True) or "published" (False) schemas: parsed
    # once per run, then handed to every dbt call (``orchestration.dbt_invoke``).
    dbt_manifests: dict[bool, Any] = field(default_factory=dict, repr=False)
    # Times dbt loaded the project during this run (full or partial parses).
    dbt_parses: int = 0
    # Of those, whole-project parses (dbt could not reuse its saved parse).
    dbt_full_parses: int = 0

    @property
    def engine(self) -> Engine:
        """The run's engine (``engines.base.Engine``): steps never ask which one it is."""
        if self.given_engine is None:
            from orchestration.session import engine_of

            self.given_engine = engine_of(self.settings, self.target)
        return self.given_engine

    @property
    def ledger(self) -> LedgerStore:
        """Where the run's ledger row lives."""
        return self.engine.ledger()


Step = Callable[[RunContext], dict[str, Any] | None]


@dataclass
class RunSummary:
    """The outcome of one run, as stored in the ledger and sent to the webhook."""

    record: ledger.RunRecord
    failure: BaseException | None = None
    # Times dbt parsed the project during the run (one per run; zero when dbt never ran).
    dbt_parses: int = 0
    # Of those, whole-project parses: 0 on a daily run that follows another on the same target.
    dbt_full_parses: int = 0

    @property
    def succeeded(self) -> bool:
        """True when every step succeeded."""
        return self.record.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        rec = self.record
        return {
            "run_id": rec.run_id,
            "status": rec.status,
            "as_of": rec.as_of.isoformat(),
            "target": rec.target,
            "started_at": rec.started_at.isoformat(),
            "ended_at": rec.ended_at.isoformat() if rec.ended_at else None,
            "steps": rec.steps,
            "rows_fetched": rec.rows_fetched,
            "rows_loaded": rec.rows_loaded,
            "rows_rejected": rec.rows_rejected,
            "tests_passed": rec.tests_passed,
            "tests_failed": rec.tests_failed,
            "failing_tests": rec.failing_tests,
            "error": rec.error,
            "command": rec.command,
            "notes": rec.notes,
            "dbt_parses": self.dbt_parses,
            "dbt_full_parses": self.dbt_full_parses,
        }


def new_run_id(as_of: date) -> str:
    """Sortable, unique: ``20240305T101500Z-<as_of>-<6 hex>``."""
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{as_of.isoformat()}-{uuid.uuid4().hex[:6]}"


def run_step(
    name: str,
    step: Step,
    ctx: RunContext,
    retries: int,
    backoff_seconds: float,
) -> tuple[dict[str, Any], dict[str, Any] | None, BaseException | None]:
    """Run one step under :func:`retry_policy`.

    Returns:
        (step status dict for the ledger, the step's output, the final exception or None).
    """
    attempts = 0
    started = time.monotonic()
    try:
        for attempt in retry_policy(name, retries, backoff_seconds):
            with attempt:
                attempts = attempt.retry_state.attempt_number
                output = step(ctx) or {}
    except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
        status = {
            "status": "failed",
            "attempts": attempts,
            "seconds": round(time.monotonic() - started, 2),
            "transient": is_transient(exc),
            "error": describe(exc),
        }
        log.error(f"step {name} failed", extra={"step": name, "attempt": attempts, **status})
        return status, None, exc
    status = {
        "status": "succeeded",
        "attempts": attempts,
        "seconds": round(time.monotonic() - started, 2),
    }
    log.info(f"step {name} succeeded", extra={"step": name, **_loggable(output)})
    return status, output, None


def _loggable(output: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in output.items() if isinstance(v, int | float | str | bool)}


def _apply_output(rec: ledger.RunRecord, output: dict[str, Any]) -> None:
    for key in ("rows_fetched", "rows_loaded", "rows_rejected"):
        if key in output:
            setattr(rec, key, output[key])
    if "tests_passed" in output:
        rec.tests_passed = (rec.tests_passed or 0) + output["tests_passed"]
    if "tests_failed" in output:
        rec.tests_failed = (rec.tests_failed or 0) + output["tests_failed"]
    rec.failing_tests.extend(output.get("failing_tests", []))
    for line in output.get("notes", []):
        if line not in rec.notes:
            rec.notes.append(line)


def execute(
    ctx: RunContext,
    steps: list[tuple[str, Step]],
    retries: int = 2,
    backoff_seconds: float = 5.0,
    on_step: Callable[[str, str], None] | None = None,
) -> RunSummary:
    """Run ``steps`` in order, recording the run in the ledger and notifying.

    Args:
        ctx: the run context.
        steps: (name, callable) pairs; each returns a dict of outputs merged into the ledger row
            (``rows_*``, ``tests_*``, ``failing_tests``) and into ``ctx.outputs[name]``.
        retries: extra attempts per step for transient failures.
        backoff_seconds: first retry delay (doubles each attempt).
        on_step: progress callback ``(step_name, status)``; status is ``running``,
            ``succeeded``, ``failed`` or ``skipped``.
    """
    rec = ledger.RunRecord(
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        target=ctx.target,
        command=ctx.command,
        notes=list(ctx.notes),
    )
    rec.steps = {name: {"status": "pending"} for name, _ in steps}
    ledger.record(ctx.ledger, rec)
    log.info(
        f"{ctx.command} started",
        extra={"run_id": ctx.run_id, "as_of": ctx.as_of.isoformat(), "target": ctx.target},
    )
    failure: BaseException | None = None
    for name, step in steps:
        if failure is not None:
            rec.steps[name] = {"status": "skipped"}
            if on_step:
                on_step(name, "skipped")
            continue
        rec.steps[name] = {"status": "running"}
        # Recorded before each step, so a run killed mid-step leaves where it died.
        ledger.record(ctx.ledger, rec)
        log.info(f"step {name} started", extra={"step": name})
        if on_step:
            on_step(name, "running")
        try:
            status, output, failure = run_step(name, step, ctx, retries, backoff_seconds)
        except BaseException:  # Ctrl-C or SystemExit: the ledger must not say "running"
            rec.steps[name] = {"status": "failed", "error": "interrupted"}
            rec.status, rec.error, rec.ended_at = (
                "failed",
                f"{name}: interrupted",
                datetime.now(UTC),
            )
            ledger.record(ctx.ledger, rec)
            raise
        rec.steps[name] = status
        failing = getattr(failure, "failing_tests", None)
        if output is not None:
            ctx.outputs[name] = output
            _apply_output(rec, output)
        elif failing:
            _apply_output(rec, getattr(failure, "outputs", {}) or {"failing_tests": failing})
        if failure is not None:
            rec.error = f"{name}: {status['error']}"
        if on_step:
            on_step(name, status["status"])
    rec.status = "failed" if failure is not None else "succeeded"
    rec.ended_at = datetime.now(UTC)
    try:
        ledger.record(ctx.ledger, rec)
    except Exception as exc:  # noqa: BLE001 - the outcome must still be reported and notified
        failure = failure or exc
        rec.status = "failed"
        rec.error = (
            f"{rec.error + '; ' if rec.error else ''}the run ledger in {ctx.ledger.where} could "
            f"not record the end of this run: {describe(exc)}"
        )
    summary = RunSummary(
        rec, failure, dbt_parses=ctx.dbt_parses, dbt_full_parses=ctx.dbt_full_parses
    )
    log.info(
        f"{ctx.command} {rec.status}",
        extra={"run_id": ctx.run_id, "status": rec.status, "error": rec.error},
    )
    notify.notify_run(ctx.settings.notify_webhook, summary.to_dict())
    return summary
