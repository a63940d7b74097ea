"""Fixtures of the dbt tests: one warehouse built by a plain ``dbt build``, copied per test.

Raw data comes from the real ingestion (``landed_warehouse``: replay API -> dlt) when the replay
server is available, else from the synthetic ``raw_fixture``. Each warehouse also gets what the
CLI writes next to raw in production: the pseudonym key in ``restricted.pseudonym_key`` (random per
session, bound parameter) and the source profile tables (``profile_fixture``). dbt writes its
target/ and logs/ under the session's temp dir so that concurrent runs in the repo do not collide.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dbt_raw_fixture as raw_fixture
import duckdb
import profile_fixture
import pytest

from engines.duckdb import DuckDBEngine
from orchestration.dbt_runner import HIDDEN_FROM_DBT, PROJECT_DIR, DbtRunResult, run_dbt

HAS_REPLAY = importlib.util.find_spec("replay.server") is not None
# The window of ``landed_warehouse`` in tests/python/conftest.py, and the day after it.
LANDED_START = date(2025, 5, 1)
LANDED_AS_OF = date(2025, 6, 10)
LANDED_NEXT_DAY = date(2025, 6, 11)
FIXTURE_START = datetime(2025, 5, 1)
FIXTURE_DAYS = 41
# A plain `dbt build` (no vars) writes the dev_ schemas, never the published ones.
DEV = "dev_"
PUBLISHED_SCHEMAS = ("staging", "intermediate", "marts", "snapshots", "ml")
# The session's pseudonym key: random, so a hit when grepping artefacts cannot be a coincidence.
SESSION_KEY = f"test-key-{secrets.token_hex(16)}"
# What orchestration passes to a published build of the landed window; the cutoff lies two days
# after the last landed day, as when a quiet source publishes nothing for two days.
PUBLISHED_CUTOFF = date(2025, 6, 12)
PUBLISHED_VARS = {
    "schema_prefix": "",
    "data_start": LANDED_START.isoformat(),
    "data_cutoff": PUBLISHED_CUTOFF.isoformat(),
}


# Parsed projects of this test process, by what a parse depends on (project, target, vars,
# environment). Every test builds its own copy of a warehouse, and a new warehouse path changes
# dbt's profile, so each call would parse the whole project again (~5-10 s); orchestration hands
# its one parse to every dbt call of a run the same way (``orchestration.dbt_invoke``).
_PARSED: dict[str, Any] = {}
# Where this test process parses (set by ``_dbt_artifacts``: each xdist worker has its own).
_PARSE_DIR = Path()


def parsed_project(env: dict[str, str], project_dir: Path, vars: Any) -> Any:
    """The project parsed for ``env`` (its warehouse directory aside), ``project_dir`` and ``vars``.

    The file's name stays in the key: DuckDB names the catalog after it, and the parsed
    relations carry that catalog (a parse for ``empty.duckdb`` would point at "empty").
    None when the parse fails: the command then parses again itself and reports the error.
    """
    key = repr(
        (
            str(project_dir),
            Path(env["BLOTTER_DUCKDB_PATH"]).stem,
            sorted(vars.items()) if vars else None,
            sorted(
                (k, v)
                for k, v in (os.environ | env).items()
                # dbt never sees the key (HIDDEN_FROM_DBT), and the path is the point.
                if k.startswith(("BLOTTER_", "DBT_"))
                # The file log's level changes no parse.
                and k not in ("BLOTTER_DUCKDB_PATH", "DBT_LOG_LEVEL_FILE", *HIDDEN_FROM_DBT)
            ),
        )
    )
    if key not in _PARSED:
        # At a fixed path (dbt's profile holds it), in a target/ per project and vars: a key
        # differing only by environment is then a partial parse (~1 CPU s, not ~13 s).
        where = _PARSE_DIR / hashlib.sha256(repr((str(project_dir), vars)).encode()).hexdigest()
        result = run_dbt(
            "parse",
            project_dir=project_dir,
            target=env["BLOTTER_TARGET"],
            env=env
            | {
                "BLOTTER_DUCKDB_PATH": str(where / Path(env["BLOTTER_DUCKDB_PATH"]).name),
                "DBT_TARGET_PATH": str(where / "target"),
            },
            vars=vars,
        )
        _PARSED[key] = result.manifest if result.success else None
    return _PARSED[key]


def dbt(
    db: Path, command: str = "build", project_dir: Path = PROJECT_DIR, **kwargs: Any
) -> DbtRunResult:
    """Run dbt on the DuckDB file ``db``, quietly, with the ``ci`` target."""
    env = {"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": kwargs.pop("target_env", "ci")}
    env |= kwargs.pop("extra_env", {})
    return run_dbt(
        command,
        project_dir=project_dir,
        target=env["BLOTTER_TARGET"],
        env=env,
        count_rows=DuckDBEngine(db).count_rows,
        manifest=parsed_project(env, project_dir, kwargs.get("vars")),
        **kwargs,
    )


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Rows of ``sql`` against ``db`` (closed at once).

    Read-write on purpose: dbt-duckdb may still hold the file open in this process, and DuckDB
    refuses a second connection with a different configuration.
    """
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, params or []).fetchall()
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


def write_pseudonym_key(db: Path, key: str) -> None:
    """What orchestration does before every dbt call: the key in its restricted table."""
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema if not exists restricted")
        con.execute(
            "create or replace table restricted.pseudonym_key (pseudonym_key varchar not null)"
        )
        con.execute("insert into restricted.pseudonym_key values (?)", [key])
    finally:
        con.close()


def pseudonym(key: str, case_number: str) -> str:
    """The published incident id of a case number: sha256 hex of ``key:case_number``."""
    return hashlib.sha256(f"{key}:{case_number}".encode()).hexdigest()


def prepare_warehouse(db: Path, profile: dict[str, Any] | None = None) -> None:
    """Add to a raw-only warehouse what ingestion and orchestration write next to raw.

    The source profile tables are written only when ingestion did not land them (or when a
    test brings its own ``profile``): tables dlt landed must stay dlt's for the next ingest.
    """
    write_pseudonym_key(db, SESSION_KEY)
    if profile is not None:
        profile_fixture.write_profile(db, profile)
    else:
        profile_fixture.ensure_profile(db)


@pytest.fixture(scope="session")
def dbt_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The directory holding dbt's target/ and logs/ for this session."""
    keys = ("DBT_TARGET_PATH", "DBT_LOG_PATH", "BLOTTER_PSEUDONYM_KEY")
    saved = {k: os.environ.get(k) for k in keys}
    base = tmp_path_factory.mktemp("dbt_artifacts")
    os.environ["DBT_TARGET_PATH"] = str(base / "target")
    os.environ["DBT_LOG_PATH"] = str(base / "logs")
    os.environ.pop("BLOTTER_PSEUDONYM_KEY", None)
    yield base
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session", autouse=True)
def _dbt_artifacts(dbt_artifacts: Path) -> None:
    """Every dbt test writes its artefacts under the session's temp dir."""
    global _PARSE_DIR
    _PARSE_DIR = dbt_artifacts / "parse"


@pytest.fixture(scope="session")
def raw_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding only ``raw.incidents`` (shared: copy before writing)."""
    if HAS_REPLAY:
        return request.getfixturevalue("landed_warehouse")
    path = tmp_path_factory.mktemp("raw") / "blotter.duckdb"
    raw_fixture.write_raw(path, n=4000, start=FIXTURE_START, days=FIXTURE_DAYS)
    return path


@pytest.fixture(scope="session")
def ingested(raw_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ingest-only warehouse: raw data, the key and the profile; no forecast, no dbt yet."""
    db = copy_db(raw_db, tmp_path_factory.mktemp("ingested"))
    prepare_warehouse(db)
    return db


@pytest.fixture(scope="session")
def built(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtRunResult]:
    """(DuckDB file, result) of a plain ``dbt build`` on ``ingested`` (shared: copy it).

    The key is also in the environment under its old name: dbt must ignore it. Its dbt log is
    written at debug level (every SQL text), which ``test_pseudonym_key`` searches for the key.
    """
    db = copy_db(ingested, tmp_path_factory.mktemp("built"))
    env = {"BLOTTER_PSEUDONYM_KEY": SESSION_KEY, "DBT_LOG_LEVEL_FILE": "debug"}
    return db, dbt(db, extra_env=env)


@pytest.fixture()
def built_copy(built: tuple[Path, DbtRunResult], tmp_path: Path) -> Path:
    """A private copy of the built warehouse."""
    return copy_db(built[0], tmp_path / "warehouse")


@pytest.fixture(scope="session")
def published(
    built: tuple[Path, DbtRunResult], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DbtRunResult]:
    """(file, result) of a build into the published schemas, as orchestration runs it."""
    db = copy_db(built[0], tmp_path_factory.mktemp("published"))
    return db, dbt(db, vars=PUBLISHED_VARS)


def published_digest(db: Path) -> dict[str, str]:
    """sha256 of each published table's columns, types and sorted rows, and of each view's
    definition (a view's rows follow raw, which tests change)."""
    schemas = list(PUBLISHED_SCHEMAS)
    relations = query(
        db,
        "select schema_name, table_name, null from duckdb_tables() "
        "where schema_name in (select unnest(?)) union all "
        "select schema_name, view_name, sql from duckdb_views() "
        "where schema_name in (select unnest(?)) order by all",
        [schemas, schemas],
    )
    out = {}
    for schema, name, view_sql in relations:
        columns = query(
            db,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        )
        content = view_sql or query(db, f'select * from "{schema}"."{name}" order by all')
        out[f"{schema}.{name}"] = hashlib.sha256(repr((columns, content)).encode()).hexdigest()
    return out


# The share of raw (the oldest rows) whose neighbourhood moves to a renamed column.
RENAMED_SHARE = 0.73


@pytest.fixture(scope="session")
def plain_rebuild(
    published: tuple[Path, DbtRunResult], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DbtRunResult, dict[str, str]]:
    """(file, result, published digest before) of a plain full-refresh build on a changed raw.

    One build serves two checks that each need a plain full refresh after raw changed
    (``test_plain_build.py``: published relations stay as they were; ``test_geography_drift.py``:
    a renamed geography column is coalesced row by row). Their changes touch different columns:
    every incident becomes a ROBBERY; the oldest ``RENAMED_SHARE`` of the history carries its
    neighbourhood under the portal's old name ``neighborhood_1``; and two columns the profile
    does not know appear (newer snapshots' zip_code, incident_id).
    """
    db = copy_db(published[0], tmp_path_factory.mktemp("plain_rebuild"))
    before = published_digest(db)
    query(db, "update raw.incidents set incident_type_primary = 'ROBBERY'")
    [(total,)] = query(db, "select count(*) from raw.incidents")
    query(db, "alter table raw.incidents add column neighborhood_1 varchar")
    query(
        db,
        "update raw.incidents set neighborhood_1 = neighborhood, neighborhood = null "
        "where case_number in (select case_number from raw.incidents "
        "order by incident_datetime limit ?)",
        [int(total * RENAMED_SHARE)],
    )
    query(db, "alter table raw.incidents add column zip_code text default '14201'")
    query(db, "alter table raw.incidents add column incident_id text default 'x-1'")
    # A full refresh is the most destructive plain build: it recreates everything it builds.
    return db, dbt(db, full_refresh=True), before
