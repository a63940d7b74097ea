"""Fixtures of the dbt tests: one warehouse built by ``dbt build`` per session, copied per test.

Raw data comes from the real ingestion (``landed_warehouse``: replay API -> dlt) when the replay
server is available, else from the synthetic ``raw_fixture``. dbt writes its target/ and logs/
under the session's temp dir so that concurrent runs in the repo do not collide.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dbt_raw_fixture as raw_fixture
import duckdb
import pytest

from orchestration.dbt_runner import PROJECT_DIR, DbtRunResult, run_dbt

# The ML workstream's models read ml.* tables that only exist after a forecast run.
NOT_OURS = ("path:models/marts/forecasting", "path:tests/dbt/forecasting")
HAS_REPLAY = importlib.util.find_spec("ingestion.replay.server") is not None
# The window of ``landed_warehouse`` in tests/python/conftest.py, and the day after it.
LANDED_START = date(2025, 5, 1)
LANDED_NEXT_DAY = date(2025, 6, 11)
FIXTURE_START = datetime(2025, 5, 1)
FIXTURE_DAYS = 41


def dbt(
    db: Path, command: str = "build", project_dir: Path = PROJECT_DIR, **kwargs: Any
) -> DbtRunResult:
    """Run dbt on the DuckDB file ``db`` (our nodes only), quietly."""
    kwargs.setdefault("exclude", NOT_OURS)
    env = {"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": kwargs.pop("target_env", "ci")}
    env |= kwargs.pop("extra_env", {})
    return run_dbt(
        command,
        project_dir=project_dir,
        target=env["BLOTTER_TARGET"],
        env=env,
        count_rows_in=db,
        **kwargs,
    )


def query(db: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` against ``db`` (closed at once).

    Read-write on purpose: dbt-duckdb may still hold the file open in this process, and DuckDB
    refuses a second connection with a different configuration.
    """
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def copy_db(src: Path, dest_dir: Path) -> Path:
    """Copy a DuckDB file (and the dlt working dir next to it) into ``dest_dir``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    for item in src.parent.iterdir():
        if item.is_dir():
            shutil.copytree(item, dest_dir / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, dest_dir / item.name)
    return dest_dir / src.name


@pytest.fixture(scope="session", autouse=True)
def _dbt_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    keys = ("DBT_TARGET_PATH", "DBT_LOG_PATH", "BLOTTER_PSEUDONYM_KEY")
    saved = {k: os.environ.get(k) for k in keys}
    base = tmp_path_factory.mktemp("dbt_artifacts")
    os.environ["DBT_TARGET_PATH"] = str(base / "target")
    os.environ["DBT_LOG_PATH"] = str(base / "logs")
    os.environ.pop("BLOTTER_PSEUDONYM_KEY", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def raw_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding only ``raw.incidents`` (shared: copy before writing)."""
    if HAS_REPLAY:
        return request.getfixturevalue("landed_warehouse")
    path = tmp_path_factory.mktemp("raw") / "blotter.duckdb"
    raw_fixture.write_raw(path, n=4000, start=FIXTURE_START, days=FIXTURE_DAYS)
    return path


@pytest.fixture(scope="session")
def built(raw_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtRunResult]:
    """(DuckDB file, result) of a full ``dbt build`` on ``raw_db`` (shared: copy it)."""
    db = copy_db(raw_db, tmp_path_factory.mktemp("built"))
    return db, dbt(db)


@pytest.fixture()
def built_copy(built: tuple[Path, DbtRunResult], tmp_path: Path) -> Path:
    """A private copy of the built warehouse."""
    return copy_db(built[0], tmp_path / "warehouse")


def next_day_raw(db: Path) -> None:
    """Land the next day: real ingest when available, else synthetic rows and revisions."""
    if HAS_REPLAY:
        from ingestion.replay.server import running_replay

        from ingestion.pipeline import ingest

        with running_replay(as_of=LANDED_NEXT_DAY, start=LANDED_START) as url:
            ingest(url, db, LANDED_START, as_of=LANDED_NEXT_DAY, show_progress=False)
        return
    raw_fixture.add_next_day(db, start=FIXTURE_START, days=FIXTURE_DAYS)
