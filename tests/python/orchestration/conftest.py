"""Shared fixtures for the orchestration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from orch_helpers import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver on 127.0.0.1."""
    rec = Receiver()
    yield rec
    rec.close()


# The end-to-end life (one module-scoped fixture) lives in e2e_scenario.py; importing it here
# makes it a fixture of test_end_to_end.py.
from e2e_scenario import scenario  # noqa: E402, F401

# The first two days of test_w32_catch_up.py's and test_w33_fingerprint.py's two lives, run once
# per test process (both modules are one scheduling group, tests/python/conftest.py).
from w32_life import first_days  # noqa: E402, F401
