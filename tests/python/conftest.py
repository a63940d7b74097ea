"""Shared fixture: one small warehouse landed from the replay API.

Kept small on purpose; area fixtures live in ``tests/python/<area>/conftest.py``.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

# dbt's parse and builds allocate millions of objects that live for the whole invocation; the
# default thresholds (700, 10, 10) make the collector rescan them ~2,000 times per build, about
# 8 % of a parse + build's CPU, half of which these thresholds save (t20, BENCHMARKS.md). Test
# processes only; the collector still runs, so nothing that waits for it (a cycle's finaliser)
# waits for ever.
gc.set_threshold(10_000, 50, 100)

# Modules sharing an expensive session fixture run in one pytest-xdist worker, so that it is
# built once per run instead of once per worker: the emulator (bigquery), the replay-city
# warehouses (dashboard), the landed and built dbt warehouses (dbt), the forecaster's pipeline
# run (three ml modules). Matched by path prefix; the first match wins.
_SHARED = (
    # Its own scenario and its own emulator: the longest group, so it must not drag the other
    # BigQuery modules onto the same worker.
    ("bigquery/test_bq_daily_run.py", "bigquery/test_bq_daily_run.py"),
    ("bigquery/", "bigquery"),
    ("dashboard/", "dashboard"),
    ("dbt/", "dbt"),
    ("ml/test_ml_cli.py", "ml/pipeline_run"),
    ("ml/test_ml_dbt.py", "ml/pipeline_run"),
    ("ml/test_ml_pipeline.py", "ml/pipeline_run"),
)
# Modules whose module-scoped fixture is parametrised (one `blotter run` per city): each
# parameter is its own group, so the cities spread over the workers.
_PER_PARAM = ("realdata/test_real_cities.py",)
# Seconds each group took on one worker: s30's run of main at 65668d1 (2026-11-30 21:39-22:41
# UTC, `pytest tests/python --junitxml`, setup + call + teardown per test; 646 passed, 2,395 CPU
# s) beside two other helpers' benchmarks (load 5-9), so only the proportions count; groups under
# 10 s left out.
# The scheduler starts the longest first (LPT), so the workers finish together; a group not
# listed counts as short and keeps its collection order after the listed ones.
_GROUP_SECONDS = {
    "dbt": 2320,  # + s39 (23 s), d39 (60 s), p40 test_p40_counts_side_by_side (30 s), a40 (19 s)
    "bigquery/test_bq_daily_run.py": 1230,
    "orchestration/test_end_to_end.py": 911,
    "trust/test_operator_scenarios.py": 849,
    "dashboard": 562,
    "bench/test_bench_quick.py": 238,
    "orchestration/test_parse_reuse.py": 220,
    "orchestration/test_w32_catch_up.py": 200,  # measured alone (195 s), not by --group-times
    "orchestration/test_w33_fingerprint.py": 110,  # measured alone (107 s)
    "ml/pipeline_run": 183,
    "ml/test_ml_engine.py": 129,
    "realdata/test_real_cities.py[sf]": 105,
    "ingestion/test_faults.py": 90,
    "bigquery": 125,  # + u41 test_u41_memo_store (45 s)
    "realdata/test_real_cities.py[chicago_homicides]": 71,
    "ingestion/test_cli.py": 53,
    "ml/test_ml_forecast_file.py": 48,
    "realdata/test_real_cities.py[buffalo_2019]": 47,
    "realdata/test_real_cities.py[chicago]": 46,
    "ingestion/test_incremental.py": 42,
    "orchestration/test_dbt_manifest.py": 40,
    "ingestion/test_operator_errors.py": 38,
    "ingestion/test_real_samples.py": 33,
    "ingestion/test_pages.py": 26,
    "orchestration/test_t28_dbt_overhead.py": 24,
    "replay/test_replay_cli.py": 23,
    "ml/test_ml_replay.py": 23,
    "ingestion/test_drift.py": 21,
    "ml/test_ml_cost_same.py": 18,
    "orchestration/test_ingest_errors_in_run.py": 15,
    "ingestion/test_lineage.py": 13,
    "settings/test_settings.py": 13,
    "replay/test_replay_faults.py": 13,
    "ml/test_ml_horizons.py": 12,
}


def _group_of(nodeid: str) -> str:
    """The scheduling group of a test: a shared area, a module or a module's parameter."""
    path = nodeid.split("::", 1)[0].removeprefix("tests/python/")
    for prefix, group in _SHARED:
        if path.startswith(prefix):
            return group
    if path in _PER_PARAM and nodeid.endswith("]"):
        return f"{path}[{nodeid.rsplit('[', 1)[1]}"
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--group-times",
        metavar="FILE",
        help="write the seconds each scheduling group took (JSON) to FILE, to refresh "
        "_GROUP_SECONDS in tests/python/conftest.py",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest groups first (every worker sorts the same way, as xdist requires)."""
    items.sort(key=lambda item: -_GROUP_SECONDS.get(_group_of(item.nodeid), 0))


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


_group_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add the setup, call and teardown time of each test to its group (``--group-times``)."""
    group = _group_of(report.nodeid)
    _group_seconds[group] = _group_seconds.get(group, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--group-times")
    if path and not hasattr(session.config, "workerinput"):  # the xdist controller, or -n 0
        ranked = sorted(_group_seconds.items(), key=lambda kv: -kv[1])
        Path(path).write_text(json.dumps({g: round(s) for g, s in ranked}, indent=1) + "\n")


@pytest.fixture(scope="session", autouse=True)
def _own_dbt_target_and_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test process gets its own dbt ``target/`` and ``logs/`` (pytest-xdist workers run
    dbt at the same time; a shared ``partial_parse.msgpack`` or manifest would race).

    Tests that need to inspect them set ``DBT_TARGET_PATH`` / ``DBT_LOG_PATH`` themselves.
    dbt's file log is written at info level (``DBT_LOG_LEVEL_FILE``, inherited by the CLI
    processes tests start): its debug level logs every SQL statement, ~4 % of a build's CPU.
    dbt's callbacks (orchestration's parse counts) see every event whatever the level; tests
    that search the log for a leaked key set ``debug`` again, so that it holds every SQL text.
    """
    base = tmp_path_factory.mktemp("dbt")
    keys = ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_LOG_LEVEL_FILE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["DBT_TARGET_PATH"] = str(base / "target")
    os.environ["DBT_LOG_PATH"] = str(base / "logs")
    os.environ["DBT_LOG_LEVEL_FILE"] = "info"
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
