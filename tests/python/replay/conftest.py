"""Shared fixtures: a real replay server on a free loopback port over a short history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import requests

from replay.server import running_replay

START = date(2024, 1, 1)
AS_OF = date(2024, 6, 30)


def _fetch_all(session: requests.Session, url: str, page: int = 1000, **params: str) -> list[dict]:
    """Page with $limit/$offset until a short page, returning every row."""
    rows: list[dict] = []
    offset = 0
    while True:
        resp = session.get(url, params={**params, "$limit": page, "$offset": offset}, timeout=30)
        resp.raise_for_status()
        batch = resp.json()
        rows += batch
        if len(batch) < page:
            return rows
        offset += page


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def fetch_all():
    """``fetch_all(session, url, page=1000, **params)``: every row, paged until a short page."""
    return _fetch_all


@pytest.fixture(scope="module")
def replay_url() -> Iterator[str]:
    """A fault-free server over 2024-01-01 .. 2024-06-30."""
    with running_replay(as_of=AS_OF, start=START) as url:
        yield url
