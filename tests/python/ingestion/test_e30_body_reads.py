"""Page bodies are read in large reads, and still inside dlt's retries.

A scripted local HTTP server serves real SODA-shaped pages; urllib3's own ``read`` is counted
(the real call still runs).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import orjson
import pytest
import urllib3.response
from ingest_helpers import local_server

from ingestion.profiles import load_profile
from ingestion.socrata.client import SodaClient
from ingestion.socrata.settings import DatasetSettings

DATASET = DatasetSettings.from_profile(load_profile("buffalo"), page_size=5000)


def records(n: int) -> list[dict[str, str]]:
    return [
        {"case_number": f"24-{i:07d}", "incident_description": "d" * 400, "latitude": "42.9"}
        for i in range(n)
    ]


@pytest.fixture
def server() -> Iterator[tuple[str, list[bytes], list[int]]]:
    """Serves the queued bodies in order; a body marked short is cut off mid-way."""
    bodies: list[bytes] = []
    cut: list[int] = []  # request numbers whose body is sent only in half, then dropped
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen[0] += 1
            body = bodies.pop(0) if bodies else b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if seen[0] in cut:
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                bodies.insert(0, body)  # served whole on the retry
                return
            self.wfile.write(body)

    with local_server(Handler) as url:
        yield url, bodies, cut


@pytest.fixture
def reads(monkeypatch) -> list[int | None]:
    """The sizes urllib3 was asked to read (the real read still happens)."""
    asked: list[int | None] = []
    real = urllib3.response.HTTPResponse.read

    def counted(self, amt=None, *args, **kwargs):
        asked.append(amt)
        return real(self, amt, *args, **kwargs)

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read", counted)
    return asked


def fetch(url: str) -> list[list[dict]]:
    client = SodaClient(url, DATASET)
    try:
        return [page.objects() for page in client.pages("x")]
    finally:
        client.close()


def test_a_page_body_takes_a_few_large_reads(server, reads):
    url, bodies, _ = server
    page = records(5000)
    body = orjson.dumps(page)
    assert len(body) > 2_000_000
    bodies.extend([body, orjson.dumps(records(3))])
    got = fetch(url)
    assert got == [page, records(3)]
    # requests alone reads 10 KiB at a time: ~200 reads for this body; 1 MiB reads need 3-4.
    assert len(reads) <= 12, f"{len(reads)} reads"
    assert max(a for a in reads if a is not None) >= 1 << 20


def test_a_body_dropped_mid_way_is_retried_and_lands_whole(server, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("tenacity.nap.time", types.SimpleNamespace(sleep=waits.append))
    url, bodies, cut = server
    page = records(5000)
    bodies.extend([orjson.dumps(page), orjson.dumps(records(3))])
    cut.append(1)  # the first response's body stops half-way and the connection closes
    assert fetch(url) == [page, records(3)]
    assert len(waits) == 1  # one retry (dlt's policy), not an error and not a short page
