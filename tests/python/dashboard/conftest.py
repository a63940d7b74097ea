"""Dashboard fixtures: fixture warehouses, a running ``blotter dashboard`` and headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# `dashboard` is not an installed package: the app adds the repo root itself, tests do here.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from dashboard_harness import CHROMIUM, OUTPUT, launch_chromium  # noqa: E402
from fixture_warehouse import build  # noqa: E402


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """test-output/dashboard (gitignored): screenshots and server logs."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def healthy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fresh data through yesterday; the last run succeeded."""
    return build(tmp_path_factory.mktemp("dash_ok") / "blotter.duckdb")


@pytest.fixture(scope="session")
def failed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Same data, but the last run failed."""
    return build(tmp_path_factory.mktemp("dash_failed") / "blotter.duckdb", last_run="failed")


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright. Missing browser = failure, not skip."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with launch_chromium() as browser:
        yield browser
