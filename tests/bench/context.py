"""What a benchmark run needs: the plan (sizes, repeats, dates) and isolated work directories.

Every DuckDB file, dlt working directory and dbt target/log directory of a run lives under one
work directory, so benchmarks never touch ``data/`` or ``target/`` of the working tree (other
people run dbt there) and each repeat starts from a known state.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.bench.proc import PYTHON, REPO, Measured, run_measured

# A fixed "today" makes runs comparable across days (replay records of a day never change).
AS_OF = date(2026, 10, 31)
HISTORY_START = date(2015, 1, 1)

# Environment variables of the caller that must not leak into a step (they would point a step
# at someone else's warehouse or dbt target).
_DROP_PREFIXES = ("BLOTTER_", "DBT_", "DLT_", "DESTINATION__", "SOURCES__", "RUNTIME__")


@dataclass(frozen=True)
class Plan:
    """Sizes and repeats of one harness run.

    Attributes:
        mode: ``quick`` or ``full``.
        repeats: Repeats of every timed step (medians are reported).
        p1_rows: Incidents backfilled in P1 (and the warehouse size of P3/P4).
        p2_rows: History sizes of the daily run in P2: (small, large) for the ratio, or one
            size (quick mode: at small sizes fixed costs dominate and the ratio means nothing).
        start: First incident day of the history (the ingestion start date).
        as_of: The day the history ends; the daily run is ``as_of + 1``.
        timeout: Seconds before one step is killed.
        judge: Judge the absolute targets (only meaningful at the issue's sizes).
    """

    mode: str
    repeats: int
    p1_rows: int
    p2_rows: tuple[int, ...]
    start: date = HISTORY_START
    as_of: date = AS_OF
    timeout: float = 1800.0
    judge: bool = False

    @property
    def next_day(self) -> date:
        """The as-of of the daily run."""
        return self.as_of + timedelta(days=1)


QUICK = Plan(
    mode="quick",
    repeats=1,
    p1_rows=20_000,
    p2_rows=(20_000,),
    start=AS_OF - timedelta(days=2 * 365),
    timeout=300.0,
)
FULL = Plan(mode="full", repeats=3, p1_rows=1_000_000, p2_rows=(100_000, 1_000_000), judge=True)


@dataclass
class Context:
    """The work directory of one harness run, and helpers to run steps inside it."""

    plan: Plan
    workdir: Path
    profile: bool = False
    counter: int = 0
    facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        # Log files are numbered in order; a reused work directory continues the numbering.
        self.counter = len(list((self.workdir / "logs").iterdir()))

    def fresh_dir(self, name: str) -> Path:
        """An empty directory ``<workdir>/<name>`` (removed first if it exists)."""
        path = self.workdir / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A step's environment: its warehouse, dlt and dbt directories under ``home``.

        Args:
            home: Directory holding ``blotter.duckdb``, ``dlt/``, ``target/``, ``dbt-logs/``.
            extra: More variables (``BLOTTER_SOURCE`` ...).
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES)}
        env.update(
            PYTHONPATH=str(REPO),
            PATH=f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}",
            BLOTTER_DUCKDB_PATH=str(home / "blotter.duckdb"),
            BLOTTER_START_DATE=self.plan.start.isoformat(),
            DLT_DATA_DIR=str(home / "dlt"),
            DBT_TARGET_PATH=str(home / "target"),
            DBT_LOG_PATH=str(home / "dbt-logs"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            DO_NOT_TRACK="1",
            RUNTIME__DLTHUB_TELEMETRY="false",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def step(
        self,
        module: str,
        *args: str,
        home: Path,
        env: dict[str, str] | None = None,
    ) -> Measured:
        """Run ``python -m tests.bench.steps.<module> *args`` measured, logging to workdir/logs."""
        self.counter += 1
        log = self.workdir / "logs" / f"{self.counter:03d}-{module}.log"
        argv = [PYTHON, "-m", f"tests.bench.steps.{module}", *args]
        return run_measured(argv, env or self.env(home), self.plan.timeout, log_path=log)

    def command(self, argv: list[str], name: str, env: dict[str, str]) -> Measured:
        """Run a real command (e.g. ``blotter run``) measured, with no result line required."""
        self.counter += 1
        log = self.workdir / "logs" / f"{self.counter:03d}-{name}.log"
        return run_measured(argv, env, self.plan.timeout, log_path=log, require_result=False)


def copy_home(src: Path, dst: Path) -> Path:
    """Copy a step home (warehouse file, dlt state, dbt target) so a repeat starts from it."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("dbt-logs"))
    return dst
