"""Warehouses for the dashboard tests, built by the real pipeline from replay data.

- ``buffalo``: ``blotter run`` (ingest → dbt build and tests in audit → forecast → publish; the
  docs step, which the page does not read, is left out) on ~13 months of the synthetic city
  served by the replay API, as-of yesterday, so the page is fresh, every mart is what dbt
  publishes and "vs last year" has data.
- ``chicago``: the real Chicago sample (../shared/real_data, or ``BLOTTER_REAL_DATA_DIR``)
  ingested through the replay API with the chicago profile, then the published crime marts
  built by ``dbt run`` (no forecasts): enough for the page to show Chicago's own levels.
- ``failed``: a copy of a built warehouse on which ``blotter run`` failed for real (its source
  is unreachable), so the ledger's last run is a failed one.

Each build runs in its own process (dbt keeps global state; the two builds run side by side):
``python replay_warehouses.py KIND OUT_DIR CHICAGO_CSV``. The build's environment holds no
``BLOTTER_*`` variable of the caller (``blotter`` refuses unknown ones, such as
``BLOTTER_REAL_DATA_DIR``). :func:`start` launches one, :func:`finish` waits
for it and returns the DuckDB file, or fails with the end of the build's log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# 400 days: 52 weeks plus the 28-day headline window plus the reporting lag, with room to spare.
# A third of the city's volume keeps the build quick (~10 incidents a day, ~4k in all).
BUFFALO_DAYS = 400
BUFFALO_SCALE = 0.3
CHICAGO_START, CHICAGO_AS_OF = date(2025, 5, 1), date(2025, 6, 1)
DB_NAME = "blotter.duckdb"
# An address nothing listens on: the failed run's ingest is refused at once.
UNREACHABLE = "http://127.0.0.1:9/resource/d6g9-xbgu.json"


@dataclass
class Build:
    """One build running in its own process."""

    kind: str
    out: Path
    proc: subprocess.Popen
    log: Path


def _env(out: Path, **extra: str) -> dict[str, str]:
    """The environment of a build: no BLOTTER_* of the caller; dbt's artefacts under ``out``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOTTER_")}
    env |= {
        "PYTHONPATH": str(REPO),
        "BLOTTER_DUCKDB_PATH": str(out / DB_NAME),
        "DBT_TARGET_PATH": str(out / "target"),
        "DBT_LOG_PATH": str(out / "logs"),
    }
    return env | extra


def start(kind: str, out: Path) -> Build:
    """Launch the build of ``kind`` into the new directory ``out``."""
    from real_samples import CHICAGO_API  # the parent's import path (not the build script's)

    out.mkdir(parents=True, exist_ok=True)
    log = out / "build.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__)), kind, str(out), str(CHICAGO_API)],
            cwd=out,  # no stray .env from the working tree
            env=_env(out),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Build(kind, out, proc, log)


def finish(build: Build, timeout: float = 600) -> Path:
    """Wait for ``build``; its DuckDB file, or RuntimeError with the end of its log."""
    try:
        code = build.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        build.proc.kill()
        build.proc.wait()
        code = "timeout"
    if code != 0:
        tail = build.log.read_text()[-4000:]
        raise RuntimeError(f"{build.kind} warehouse build failed ({code}):\n{tail}")
    return build.out / DB_NAME


def failed_copy(src: Path, out: Path) -> Path:
    """Copy the warehouse at ``src`` (and dlt's state next to it) and fail a real run on it."""
    shutil.copytree(src.parent, out, ignore=shutil.ignore_patterns("target", "logs", "*.log"))
    env = _env(out, BLOTTER_SOURCE=UNREACHABLE, BLOTTER_START_DATE=_buffalo_window()[0].isoformat())
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--retries", "0"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 1 or "cannot reach" not in result.stderr:
        tail = result.stderr[-3000:]
        raise RuntimeError(f"expected a failed run, got exit {result.returncode}:\n{tail}")
    return out / DB_NAME


def _buffalo_window() -> tuple[date, date]:
    """(start, as-of): as-of yesterday (UTC), which is never after today in Buffalo."""
    as_of = datetime.now(UTC).date() - timedelta(days=1)
    return as_of - timedelta(days=BUFFALO_DAYS), as_of


def _build_buffalo(out: Path, sample: Path) -> None:
    del sample  # the synthetic city needs no file
    from typer.testing import CliRunner

    from orchestration.cli import app
    from replay.server import running_replay

    start_day, as_of = _buffalo_window()
    os.environ["BLOTTER_START_DATE"] = start_day.isoformat()
    with running_replay(as_of=as_of, start=start_day, scale=BUFFALO_SCALE) as url:
        os.environ["BLOTTER_SOURCE"] = url
        # The page reads no docs site: the docs step (~40 % of the run) is left out.
        result = CliRunner().invoke(
            app, ["run", "--as-of", as_of.isoformat(), "--no-docs", "--retries", "0"]
        )
    print(result.output)
    if result.exit_code != 0:
        raise SystemExit(f"blotter run exited {result.exit_code}")


def _build_chicago(out: Path, sample: Path) -> None:
    from engines.base import landing_state_dir
    from engines.duckdb import DuckDBEngine
    from engines.duckdb.key_store import DuckDBKeyStore
    from ingestion.pipeline import ingest
    from orchestration.dbt_runner import run_dbt
    from replay.server import running_replay

    if not sample.is_file():
        raise SystemExit(f"{sample} is missing: set BLOTTER_REAL_DATA_DIR to the real samples")
    db = out / DB_NAME
    # Run as a script (tests/python is not on the path): the engine's landing, as `blotter ingest`.
    with (
        running_replay(from_file=sample, profile="chicago") as url,
        DuckDBEngine(db).landing() as destination,
    ):
        landed = ingest(
            url,
            landing_state_dir(db),
            CHICAGO_START,
            as_of=CHICAGO_AS_OF,
            show_progress=False,
            destination=destination,
        )
    print(f"chicago: fetched {landed.fetched}, loaded {landed.loaded}")
    DuckDBKeyStore(db).write_key("dashboard-test-key")
    result = run_dbt(
        "run",
        exclude=["path:models/marts/forecasting"],
        vars={
            "schema_prefix": "",
            "data_start": CHICAGO_START.isoformat(),
            "data_cutoff": CHICAGO_AS_OF.isoformat(),
        },
        target="ci",
        env={"BLOTTER_TARGET": "ci"},
        count_rows=DuckDBEngine(db).count_rows,
    )
    if not result.success:
        raise SystemExit(f"dbt run failed: {result.error}")


if __name__ == "__main__":
    kind, directory, csv = sys.argv[1], Path(sys.argv[2]).resolve(), Path(sys.argv[3])
    {"buffalo": _build_buffalo, "chicago": _build_chicago}[kind](directory, csv)
