"""Dashboard fixtures: warehouses built by the real pipeline, ``blotter dashboard``, Chromium.

The warehouses come from :mod:`replay_warehouses`: the replay city through ``blotter run``
(Buffalo's levels), the real Chicago sample through ingest and ``dbt run`` (Chicago's levels), and
a copy of the first on which a run failed. The two builds start together, in their own
processes, the first time a test needs either; every test shares them (copy before writing).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# `dashboard` is not an installed package: the app adds the repo root itself, tests do here.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import replay_warehouses  # noqa: E402
from dashboard_harness import CHROMIUM, OUTPUT, launch_chromium  # noqa: E402


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """test-output/dashboard (gitignored): screenshots and server logs."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def warehouse_builds(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, replay_warehouses.Build]]:
    """The Buffalo and Chicago builds, started side by side (each waited for by its fixture)."""
    base = tmp_path_factory.mktemp("dashboard_warehouses")
    started = time.monotonic()
    builds = {kind: replay_warehouses.start(kind, base / kind) for kind in ("buffalo", "chicago")}
    yield builds
    for build in builds.values():
        if build.proc.poll() is None:
            build.proc.kill()
            build.proc.wait()
    sys.stderr.write(f"\ndashboard warehouses: built in {time.monotonic() - started:.0f} s\n")


@pytest.fixture(scope="session")
def healthy_db(warehouse_builds: dict[str, replay_warehouses.Build]) -> Path:
    """The replay city through ``blotter run``, as-of yesterday: fresh, last run succeeded."""
    return replay_warehouses.finish(warehouse_builds["buffalo"])


@pytest.fixture(scope="session")
def chicago_db(warehouse_builds: dict[str, replay_warehouses.Build]) -> Path:
    """The real Chicago sample with its published crime marts (no forecasts, no run ledger)."""
    return replay_warehouses.finish(warehouse_builds["chicago"])


@pytest.fixture(scope="session")
def failed_db(healthy_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``healthy_db`` whose last run failed (its source was unreachable)."""
    return replay_warehouses.failed_copy(healthy_db, tmp_path_factory.mktemp("dash_failed") / "w")


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright. Missing browser = failure, not skip."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with launch_chromium() as browser:
        yield browser
