"""The two lives of ``test_w32_catch_up`` and ``test_w33_fingerprint``, and their first two days.

Two warehouses live the same days through the real CLI and the in-process replay API: ``caught``
with this code, ``copied`` on the seed-copy path (``dbt_manifest.CATCH_UP`` and
``continued.levelled_tables`` empty: every continued table copied from the live colour, as before
w32). Both modules start with the same two days (blue, then green: each seeded by copy, nothing
published before) on both lives, with the same start, key and days: :func:`first_days` runs them
once per test process, and each test continues from its own copy (:meth:`FirstDays.lives`).
dbt's saved parse does not depend on the warehouse's path, so a copy parses nothing again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from orch_helpers import blotter_process, wait_for, wait_for_line
from typer.testing import CliRunner

from engines.base import PUBLISHED_SCHEMAS
from orchestration import continued, dbt_manifest
from orchestration.cli import app

START = "2024-05-01"
DAYS = [f"2024-06-{d:02d}" for d in range(10, 17)]
KEY = "w32-catch-up-key-5b1f0c9e7d"
# Columns whose values name a load or a run, or its wall-clock time: they differ between two
# warehouses however equal. marts.fct_pipeline_runs is the run ledger: the lives differ there by
# design (caught has a failed and a killed run).
RUN_COLUMNS = {
    "dlt_load_id",
    "_dlt_load_id",
    "_dlt_id",
    "run_id",
    "forecast_run_id",
    "trained_at",
    "promoted_at",
    "created_at",
    "updated_at",
}
LEDGER = "marts.fct_pipeline_runs"


def _values(con: duckdb.DuckDBPyConnection, relation: str, catalog: str) -> str:
    columns = con.execute(
        "select column_name from duckdb_columns() where database_name = ? "
        "and schema_name = ? and table_name = ? order by column_index",
        [catalog, *relation.split(".")],
    ).fetchall()
    kept = [c for (c,) in columns if c not in RUN_COLUMNS]
    assert kept, relation
    names = ", ".join(f'"{c}"' for c in kept)
    schema, table = relation.split(".")
    return f'select {names} from "{catalog}"."{schema}"."{table}"'


def differences(caught: Path, copied: Path) -> dict[str, tuple[int, int]]:
    """``{published relation: (rows only in caught, rows only in copied)}`` where they differ."""
    with duckdb.connect(str(caught), read_only=True) as con:
        con.execute(f"attach '{copied.as_posix()}' as copied (read_only)")
        here = con.execute("select current_database()").fetchone()[0]
        found = {}
        for catalog in (here, "copied"):
            found[catalog] = {
                f"{s}.{t}"
                for s, t in con.execute(
                    "select schema_name, view_name from duckdb_views() where database_name = ? "
                    "and not internal and list_contains(?, schema_name)",
                    [catalog, list(PUBLISHED_SCHEMAS)],
                ).fetchall()
            }
        out: dict[str, tuple[int, int]] = {}
        for name in sorted(found[here] ^ found["copied"]):
            out[name] = (-1, -1)
        for name in sorted(found[here] & found["copied"] - {LEDGER}):
            mine, theirs = _values(con, name, here), _values(con, name, "copied")
            only_mine = con.execute(f"select count(*) from ({mine} except all {theirs})").fetchone()
            only_theirs = con.execute(
                f"select count(*) from ({theirs} except all {mine})"
            ).fetchone()
            if only_mine[0] or only_theirs[0]:
                out[name] = (only_mine[0], only_theirs[0])
    return out


def edit_raw(path: Path, serial: int) -> None:
    """The same edits in any warehouse, in a load of their own: revision ``serial`` of the oldest
    incident (type and area change, :updated_at the newest landed), and a late incident that
    occurred in the first week, updated 6 days before the newest landed."""
    with duckdb.connect(str(path)) as con:
        newest, load = con.execute(
            "select max(socrata_updated_at), max(_dlt_load_id) from raw.incidents"
        ).fetchone()
        landed = datetime.fromisoformat(newest.replace("Z", "+00:00"))  # raw keeps Socrata's text
        late = (landed - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        new_load = f"{float(load) + 1:.6f}"
        types = ["ROBBERY", "BURGLARY", "ASSAULT"]
        con.execute(
            "update raw.incidents set incident_type_primary = ?, neighborhood = ?, "
            "socrata_updated_at = ?, _dlt_load_id = ? where case_number = "
            "(select min(case_number) from raw.incidents)",
            [
                types[serial % 3],
                ["Allentown", "Central", "Kaisertown"][serial % 3],
                newest,
                new_load,
            ],
        )
        suffix = f"-W32LATE{serial}"
        con.execute(
            "insert into raw.incidents by name select * replace (case_number || ? as case_number,"
            " ? as socrata_updated_at, ? as _dlt_load_id, _dlt_id || ? as _dlt_id) "
            "from raw.incidents where case_number = (select max(case_number) from raw.incidents "
            "where incident_datetime < ?)",
            [suffix, late, new_load, suffix, "2024-05-08"],
        )


def seeded(result_stderr: str) -> int:
    """``audit_tables_seeded`` of the run's build step (its JSON log line)."""
    for line in result_stderr.splitlines():
        if line.startswith("{") and '"step build_warehouse succeeded"' in line:
            return int(json.loads(line)["audit_tables_seeded"])
    raise AssertionError(f"no build_warehouse line in:\n{result_stderr[-2000:]}")


class Life:
    """One warehouse and the CLI runs on it."""

    def __init__(self, base: Path, mp: pytest.MonkeyPatch, new: bool = True) -> None:
        """``new``: the directory is created (it must not exist); else it holds a copied life."""
        self.base, self.mp = base, mp
        self.path = base / "w.duckdb"
        if new:
            base.mkdir()
        self.runner = CliRunner()

    def env(self) -> dict[str, str]:
        return {
            "BLOTTER_DUCKDB_PATH": str(self.path),
            "BLOTTER_START_DATE": START,
            "BLOTTER_PSEUDONYM_KEY": KEY,
            "DBT_TARGET_PATH": str(self.base / "target"),
            "DBT_LOG_PATH": str(self.base / "logs"),
            "BLOTTER_LOG_FORMAT": "json",
        }

    def cli(self, *args: str, ok: bool = True) -> str:
        self.mp.chdir(self.base)
        result = self.runner.invoke(app, list(args), env=self.env())
        output = result.stderr
        assert (result.exit_code == 0) == ok, output[-3000:]
        return output

    def run(self, day: str, ok: bool = True) -> str:
        return self.cli("run", "--as-of", day, "--no-docs", "--retries", "0", ok=ok)

    def killed_mid_build(self, day: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLOTTER_")}
        env.update(self.env())
        doomed = blotter_process(
            "run", "--as-of", day, "--no-docs", "--retries", "0", env=env, cwd=self.base
        )  # fmt: skip
        dbt_log = self.base / "logs" / "dbt.log"
        logged = dbt_log.stat().st_size if dbt_log.exists() else 0
        wait_for_line(doomed, '"step build_warehouse started"')
        # dbt builds its 5th node: the colour was prepared before dbt started.
        wait_for(lambda: " 5 of " in dbt_log.read_text()[logged:], timeout=300, what="dbt")
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate()
        with duckdb.connect(str(self.path), read_only=True) as con:
            states = con.execute("select state from ops.colour_contents").fetchall()
        assert ("building",) in states, "the kill came before the build colour was prepared"


def both(
    caught: Life, copied: Life, mp: pytest.MonkeyPatch, action: Callable[[Life], Any]
) -> tuple[Any, Any]:
    """``action`` on ``caught`` with this code, then on ``copied`` on the seed-copy path."""
    out = action(caught)
    with mp.context() as patch:
        patch.setattr(dbt_manifest, "CATCH_UP", frozenset())
        patch.setattr(continued, "levelled_tables", lambda ctx: {})
        other = action(copied)
    return out, other


@pytest.fixture
def mp() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("BLOTTER_")]:
            patch.delenv(key)
        yield patch


@dataclass
class FirstDays:
    """Both lives after ``DAYS[0]`` and ``DAYS[1]`` (kept: copy them), and what each day left."""

    base: Path
    # Per day: the published relations that differed between the lives (``differences``).
    differences: dict[str, dict[str, tuple[int, int]]]

    def lives(self, dest: Path, mp: pytest.MonkeyPatch) -> tuple[Life, Life]:
        """Private copies of (caught, copied) under ``dest``, ready for ``DAYS[2]``."""
        out = []
        for name in ("caught", "copied"):
            shutil.copytree(self.base / name, dest / name)
            out.append(Life(dest / name, mp, new=False))
        return out[0], out[1]


@pytest.fixture(scope="session")
def first_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstDays]:
    """``DAYS[0]`` and ``DAYS[1]`` on both lives, once per test process."""
    base = tmp_path_factory.mktemp("w32_first_days")
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("BLOTTER_")]:
            patch.delenv(key)
        caught, copied = Life(base / "caught", patch), Life(base / "copied", patch)
        found = {}
        for day in DAYS[:2]:
            both(caught, copied, patch, lambda life, d=day: life.run(d))
            found[day] = differences(caught.path, copied.path)
    yield FirstDays(base, found)
