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
    # The first two days of their two lives are one session fixture (orchestration/w32_life.py).
    ("orchestration/test_w32_catch_up.py", "orchestration/w32_lives"),
    ("orchestration/test_w33_fingerprint.py", "orchestration/w32_lives"),
    ("ml/test_ml_cli.py", "ml/pipeline_run"),
    ("ml/test_ml_dbt.py", "ml/pipeline_run"),
    ("ml/test_ml_pipeline.py", "ml/pipeline_run"),
)
# Modules whose module-scoped fixture is parametrised (one `blotter run` per city): each
# parameter is its own group, so the cities spread over the workers.
_PER_PARAM = ("realdata/test_real_cities.py",)
# Seconds each group took on one worker: t42's run of 6896a3b (2026-12-03 17:54-18:25 UTC,
# `pytest tests/python --group-times FILE`, setup + call + teardown per test; 773 passed in
# 1,869 s on 2 workers, 3,682 s of groups) beside two helpers' 10M DuckDB queries (load 5-9), so
# only the proportions count; groups under 8 s left out. A simulated schedule of that run's test
# times gives each worker 1,843 s with these weights and with s30's, so the balance is no better:
# the many short groups fill the tail. The weights matter for a new or grown group (without one
# it counts as short and starts last).
# The scheduler starts the longest first (LPT), so the workers finish together; a group not
# listed counts as short and keeps its collection order after the listed ones.
_GROUP_SECONDS = {
    "dbt": 730,  # t42 measured 667; + s42 test_s42_snapshot_window (~40 s), w42 (22 s)
    "orchestration/w32_lives": 919,  # w32 483 + w33 436 before t42 shared their first days
    "bigquery/test_bq_daily_run.py": 359,
    "orchestration/test_end_to_end.py": 209,
    "trust/test_operator_scenarios.py": 194,
    "dashboard": 151,
    "ingestion/test_k31_interrupted_load.py": 113,
    "ml/pipeline_run": 98,
    "bench/test_bench_quick.py": 78,
    "ingestion/test_faults.py": 71,
    "bigquery": 49,
    "ml/test_ml_engine.py": 47,
    "realdata/test_real_cities.py[sf]": 46,
    "orchestration/test_p42_profile_edit.py": 45,  # measured alone (40-47 s)
    "orchestration/test_u41_unit_test_memo.py": 40,
    "ingestion/test_incremental.py": 33,
    "realdata/test_real_cities.py[chicago_homicides]": 33,
    "realdata/test_real_cities.py[chicago]": 32,
    "realdata/test_real_cities.py[buffalo_2019]": 31,
    "orchestration/test_dbt_manifest.py": 30,
    "orchestration/test_parse_reuse.py": 29,
    "orchestration/test_s39_saved_parse_fallback.py": 27,
    "orchestration/test_w32_colour_state.py": 26,
    "ingestion/test_operator_errors.py": 25,
    "ingestion/test_real_samples.py": 25,
    "ingestion/test_cli.py": 24,
    "ingestion/test_key_change.py": 12,  # measured alone (3-16 s)
    "orchestration/test_t28_dbt_overhead.py": 21,
    "orchestration/test_l37_level.py": 18,
    "ml/test_ml_forecast_file.py": 17,
    "ingestion/test_pages.py": 16,
    "orchestration/test_g31_blue_green.py": 14,
    "ml/test_ml_cost_same.py": 13,
    "replay/test_replay_faults.py": 12,
    "orchestration/test_g31_build_manifest.py": 12,
    "orchestration/test_ingest_errors_in_run.py": 11,
    "ml/test_ml_replay.py": 10,
    "ml/test_ml_selection.py": 9,
    "replay/test_packaging.py": 9,
    "ingestion/test_drift.py": 9,
    "ingestion/test_lineage.py": 8,
    "orchestration/test_units_trust.py": 8,
    "replay/test_replay_cli.py": 8,
    "orchestration/test_publish.py": 8,
    "ml/test_f29_bench_origins.py": 8,
    "replay/test_export.py": 8,
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
