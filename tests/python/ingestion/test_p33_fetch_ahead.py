"""p33: the fetch thread requests the next page without waiting for the caller's loop, and the
page file DuckDB reads is written by the parse step, not by the count the paginator waits for.

Against a scripted local HTTP server (the paging rules are test_http.py's: no extra request).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from ingest_helpers import local_server

from ingestion.pages import PageParser
from ingestion.profiles import load_profile
from ingestion.socrata.client import SodaClient, SourceUnavailableError
from ingestion.socrata.fetch_ahead import FetchAhead
from ingestion.socrata.settings import DatasetSettings

DATASET = DatasetSettings.from_profile(load_profile("buffalo"))
SMALL = type(DATASET)(dataset_id=DATASET.dataset_id, page_size=3)


@pytest.fixture
def server() -> Iterator[tuple[str, list, list]]:
    """(url, responses to serve in order (then ``[]``), paths requested)."""
    responses: list[tuple[int, bytes]] = []
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            requested.append(self.path)
            status, body = responses.pop(0) if responses else (200, b"[]")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with local_server(Handler) as url:
        yield url, responses, requested


def _wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def _full(first: int) -> bytes:
    return json.dumps([{"n": first + i} for i in range(3)]).encode()


def test_the_next_request_does_not_wait_for_the_caller(server):
    url, responses, requested = server
    responses += [(200, _full(0)), (200, _full(3)), (200, _full(6)), (200, _full(9))]
    responses.append((200, b'[{"n": 12}]'))
    client = SodaClient(url, SMALL)
    try:
        pages = client.pages("x")
        first = next(pages)
        # The caller still holds page 0: the old loop sent page 3's request only when the
        # caller came back (3 requests here); the fetch thread sends it on its own.
        assert _wait_for(lambda: len(requested) >= 4), requested
        rest = list(pages)
    finally:
        client.close()
    assert [p.objects() for p in [first, *rest]] == [
        [{"n": i} for i in range(s, s + 3)] for s in (0, 3, 6, 9)
    ] + [[{"n": 12}]]
    assert len(requested) == 5  # still no request after the short page


def test_a_fetch_error_reaches_the_caller_after_the_pages_before_it(server):
    url, responses, requested = server
    responses += [(200, _full(0)), (200, _full(3))] + [(503, b'{"message": "busy"}')] * 2
    client = SodaClient(url, SMALL, max_attempts=2)
    got = []
    try:
        with pytest.raises(SourceUnavailableError, match="HTTP 503 after 2 attempts"):
            for page in client.pages("x"):
                got.append(page.objects())
    finally:
        client.close()
    # As before: the error stops the fetch before the page counted last is handed on.
    assert got == [[{"n": i} for i in range(3)]]


def test_the_page_file_is_written_by_finish_not_by_count(tmp_path):
    parser = PageParser(tmp_path)
    counted = parser.count(_full(0), ["n"])
    assert counted.path is None and not list(tmp_path.iterdir())  # nothing written yet
    assert parser.finish(counted).objects() == [{"n": i} for i in range(3)]
    assert not list(tmp_path.iterdir())  # written, read once, removed


def test_fetch_ahead_hands_on_in_order_and_stops_when_closed():
    produced: list[int] = []

    def numbers() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    ahead = FetchAhead(numbers(), name="test-ahead")
    assert [ahead.get() for _ in range(3)] == [0, 1, 2]
    ahead.close()
    ahead._thread.join(timeout=5)
    assert not ahead._thread.is_alive()
    # One page waits in the hand-over and one more may be fetched: never the whole source.
    assert len(produced) <= 6


def test_fetch_ahead_raises_the_source_error_in_the_caller():
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("boom")

    ahead = FetchAhead(failing())
    assert ahead.get() == 1
    with pytest.raises(ValueError, match="boom"):
        ahead.get()
    ahead.close()
