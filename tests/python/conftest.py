"""Shared fixture: one small warehouse landed from the replay API.

Kept small on purpose; area fixtures live in ``tests/python/<area>/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

# Test areas whose modules share session-scoped fixtures (a warehouse, an emulator): each runs
# in one pytest-xdist worker, so the fixture is built once. Every other module is its own group.
_SHARED_AREAS = ("bigquery", "dashboard")
# The longest groups start first, so the two workers finish together (measured: each of these
# builds warehouses with several full `blotter run`s; the rest take seconds to a minute).
_LONGEST_FIRST = (
    "bigquery",
    "orchestration/test_end_to_end.py",
    "bench/test_bench_quick.py",
    "trust/test_operator_scenarios.py",
    "realdata/test_real_cities.py",
    "dashboard",
    "dbt/test_completeness.py",
    "dbt/test_generic_tests_fail.py",
    "ml/test_ml_engine.py",
)


def _group_of(nodeid: str) -> str:
    """``bigquery`` for tests/python/bigquery/..., else the module (``dbt/test_x.py``)."""
    path = nodeid.split("::", 1)[0].removeprefix("tests/python/")
    area = path.split("/", 1)[0]
    return area if area in _SHARED_AREAS else path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the longest groups first (every worker sorts the same way, as xdist requires)."""
    rank = {group: i for i, group in enumerate(_LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_group_of(item.nodeid), len(rank)))


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Send each group whole to one worker, in collection order (longest first).

    xdist's own ``loadgroup`` marks cannot be used: they rewrite ``Item._nodeid``, which
    pytest 9.2 no longer reads.
    """
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group_of(nodeid)

    return GroupScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def _own_dbt_target_and_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test process gets its own dbt ``target/`` and ``logs/`` (pytest-xdist workers run
    dbt at the same time; a shared ``partial_parse.msgpack`` or manifest would race).

    Tests that need to inspect them set ``DBT_TARGET_PATH`` / ``DBT_LOG_PATH`` themselves.
    """
    base = tmp_path_factory.mktemp("dbt")
    saved = {k: os.environ.get(k) for k in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}
    os.environ["DBT_TARGET_PATH"] = str(base / "target")
    os.environ["DBT_LOG_PATH"] = str(base / "logs")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# A short, recent window keeps every backfill small (a few thousand rows) and fast.
LANDED_AS_OF = date(2025, 6, 10)
LANDED_START = date(2025, 5, 1)


@pytest.fixture(scope="session")
def landed_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file whose ``raw.incidents`` was landed by ``ingest`` from the replay API.

    Window ``LANDED_START`` .. ``LANDED_AS_OF``; shared by the session, so copy the file
    before writing to it.
    """
    from duckdb_ingest import ingest_duckdb

    from replay.server import running_replay

    path = tmp_path_factory.mktemp("landed") / "blotter.duckdb"
    with running_replay(as_of=LANDED_AS_OF, start=LANDED_START) as url:
        ingest_duckdb(url, path, LANDED_START, show_progress=False)
    return path
