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
