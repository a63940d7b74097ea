"""Helpers of the cross-engine test: run ``blotter run`` as a user would, read both warehouses.

Each run is a child process (``python -m orchestration.cli run``) with its own ``BLOTTER_*``
environment and its own dbt target/log directories, so the DuckDB and BigQuery runs share
nothing but the code.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from bq_emulator import Emulator

from engines.duckdb.colours import live_prefixes

REPO = Path(__file__).resolve().parents[3]
PSEUDONYM_KEY = "bigquery-parity-test-key"  # prod refuses the dev key; both runs use this one
# A hang guard, not a speed check: on the shared 2-core box at load 14 one BigQuery day took over
# 15 minutes (900 s killed it and errored the whole scenario).
RUN_TIMEOUT = 1800


@dataclass
class Deployment:
    """One Blotter deployment: a DuckDB file (dev; run lock for both) and maybe a BigQuery one."""

    root: Path
    start: date
    target: str = "dev"
    emulator: Emulator | None = None
    dataset_prefix: str = ""

    @property
    def duckdb_path(self) -> Path:
        return self.root / "blotter.duckdb"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLOTTER_")}
        env.update(
            BLOTTER_DUCKDB_PATH=str(self.duckdb_path),
            BLOTTER_SOURCE="demo",
            BLOTTER_START_DATE=self.start.isoformat(),
            BLOTTER_PSEUDONYM_KEY=PSEUDONYM_KEY,
            BLOTTER_TARGET=self.target,
            DBT_TARGET_PATH=str(self.root / "dbt_target"),
            DBT_LOG_PATH=str(self.root / "dbt_logs"),
        )
        if self.emulator is not None:
            env.update(
                BLOTTER_GCP_PROJECT=self.emulator.project,
                BLOTTER_BQ_API_ENDPOINT=self.emulator.endpoint,
                BLOTTER_BQ_LOCATION="US",
                BLOTTER_BQ_DATASET_PREFIX=self.dataset_prefix,
            )
        return env

    def run(self, as_of: date, docs: bool = True) -> tuple[int, dict[str, Any], str]:
        """``blotter run --as-of`` → (exit code, run summary, stderr tail).

        ``docs=False`` runs with ``--no-docs`` (the docs step is a sixth of a run), for a day
        whose docs site nothing reads.
        """
        summary = self.root / f"summary-{as_of}.json"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "orchestration.cli",
                "run",
                *([] if docs else ["--no-docs"]),
                "--as-of",
                as_of.isoformat(),
                "--target",
                self.target,
                "--log-format",
                "json",
                "--retries",
                "0",
                "--summary-file",
                str(summary),
            ],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        data = json.loads(summary.read_text()) if summary.exists() else {}
        return proc.returncode, data, proc.stderr[-3000:]

    # ---- reading published tables

    def tables(self, schema: str) -> list[str]:
        """Base tables of a published schema (or dataset).

        On DuckDB those of the schema's live colour (blue/green): the published schema holds
        one view onto each of them.
        """
        if self.emulator is None:
            with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
                physical = live_prefixes(con).get(schema, "") + schema
                rows = con.execute(
                    "select table_name from duckdb_tables() where schema_name = ?", [physical]
                ).fetchall()
            return sorted(r[0] for r in rows)
        client = self.emulator.client()
        dataset = f"{self.emulator.project}.{self.dataset_prefix}{schema}"
        return sorted(t.table_id for t in client.list_tables(dataset) if t.table_type == "TABLE")

    def read(self, schema: str, table: str) -> pd.DataFrame:
        """A published table as a frame with engine-neutral dtypes."""
        if self.emulator is None:
            with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
                frame = con.execute(f'select * from "{schema}"."{table}"').df()
        else:
            arrow = self.emulator.read_table(f"{self.dataset_prefix}{schema}.{table}")
            with duckdb.connect() as con:
                frame = con.from_arrow(arrow).df()
        return neutral(frame)


def neutral(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates/timestamps as ISO text (UTC), numbers as float, nulls as None; columns sorted."""
    out = pd.DataFrame(index=frame.index)
    for col in sorted(frame.columns):
        s = frame[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object).where(s.notna(), None)
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype(float)
        else:
            out[col] = (
                s.astype(object)
                .where(s.notna(), None)
                .map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
            )
    return out


def sorted_rows(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in key order, index reset (for assert_frame_equal)."""
    return frame.sort_values(keys, na_position="first").reset_index(drop=True)


def digest(
    dep: Deployment,
    schemas: tuple[str, ...],
    read: Callable[[str, str], pd.DataFrame] | None = None,
) -> dict[str, str]:
    """Content hash of every published table (order-independent) plus the names of its views.

    ``read(schema, table)`` replaces ``dep.read`` (e.g. to keep the frames it read).
    """
    out: dict[str, str] = {}
    for schema in schemas:
        for table in dep.tables(schema):
            frame = (read or dep.read)(schema, table)
            rows = sorted(tuple(map(repr, r)) for r in frame.itertuples(index=False, name=None))
            out[f"{schema}.{table}"] = hashlib.sha256(
                repr((list(frame), rows)).encode()
            ).hexdigest()
        if dep.emulator is not None:
            client = dep.emulator.client()
            dataset = f"{dep.emulator.project}.{dep.dataset_prefix}{schema}"
            views = sorted(
                t.table_id for t in client.list_tables(dataset) if t.table_type == "VIEW"
            )
            out[f"{schema} views"] = ",".join(views)
    return out


def runs_json(dep: Deployment) -> list[dict[str, Any]]:
    """``blotter runs --json`` of the deployment's ledger."""
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "runs", "--json"],
        cwd=REPO,
        env=dep.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)
