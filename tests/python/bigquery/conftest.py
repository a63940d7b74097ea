"""Fixtures of the ``bigquery`` tests: one bqemulator per test session.

Every test in this folder is marked ``bigquery`` (``pytest -m bigquery``). A missing
prerequisite (bqemulator, duckdb 1.5, the spatial wheel) makes the fixture raise, so the tests
FAIL with the reason; they never skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bq_emulator import Emulator, running_emulator

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder ``bigquery``."""
    for item in items:
        if Path(str(item.fspath)).parent == HERE:
            item.add_marker(pytest.mark.bigquery)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running bqemulator (child process on a free 127.0.0.1 port), stopped at session end."""
    with running_emulator(tmp_path_factory.mktemp("bqemulator")) as emu:
        yield emu
