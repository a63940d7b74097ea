"""SodaClient (dlt's REST client) against a scripted local HTTP server.

Retries and Retry-After, permanent 4xx, a 503 storm ending in SourceUnavailable, short-page
stop, the token only in the header.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import types
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler

import pytest
from duckdb_ingest import ingest_duckdb
from ingest_helpers import local_server, query

from engines.base import landing_state_dir
from engines.errors import SourceUnavailable, TransientError
from ingestion.errors import IngestError
from ingestion.pages import PageParser
from ingestion.profiles import load_profile
from ingestion.socrata.client import SodaClient, SourceError, SourceUnavailableError
from ingestion.socrata.helpers import build_where, redact
from ingestion.socrata.settings import DatasetSettings

PROFILE = load_profile("buffalo")
DATASET = DatasetSettings.from_profile(PROFILE)
TOKEN = "tok-SECRET-123"


class Script:
    """Responses to serve in order (status, headers, body); then 200 with ``[]``."""

    def __init__(self) -> None:
        self.responses: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []


@pytest.fixture
def delays(monkeypatch) -> list[float]:
    """The waits of dlt's retry policy (tenacity), recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr("tenacity.nap.time", types.SimpleNamespace(sleep=waits.append))
    return waits


def rows(url: str, dataset: DatasetSettings = DATASET, **options) -> list[list[dict]]:
    client = SodaClient(url, dataset, **options)
    try:
        return [page.objects() for page in client.pages("x")]
    finally:
        client.close()


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            script.requests.append((self.path, dict(self.headers)))
            status, headers, body = (
                script.responses.pop(0) if script.responses else (200, {}, b"[]")
            )
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with local_server(Handler) as url:
        yield url, script


def test_429_and_5xx_are_retried_honouring_retry_after(server, delays, caplog):
    url, script = server
    script.responses = [
        (429, {"Retry-After": "2"}, b'{"message": "slow down"}'),
        (503, {}, b"<html>busy</html>"),
        (200, {}, b'[{"case_number": "A"}]'),
    ]
    client = SodaClient(url, DATASET, app_token=TOKEN)
    with caplog.at_level(logging.DEBUG):  # dlt's own request log included
        assert [page.objects() for page in client.pages("x")] == [[{"case_number": "A"}]]
    assert delays[0] == 2.0 and 0 < delays[1] <= 1.0 and client.retries == 2
    assert all(headers.get("X-App-Token") == TOKEN for _, headers in script.requests)
    assert all(TOKEN not in path for path, _ in script.requests)
    assert "HTTP 429" in caplog.text and TOKEN not in caplog.text


def test_a_permanent_4xx_stops_with_the_socrata_message(server, delays):
    url, script = server
    body = {"errorCode": "query.soql.no-such-column", "message": "No such column: nope"}
    script.responses = [(400, {}, json.dumps(body).encode())]
    with pytest.raises(SourceError) as error:
        rows(url + "?$$app_token=" + TOKEN)
    assert str(error.value) == f"{url} answered HTTP 400: No such column: nope"
    assert not isinstance(error.value, SourceUnavailable)  # a retry would not help
    path, headers = script.requests[0]
    assert TOKEN not in path and headers.get("X-App-Token") == TOKEN  # moved to the header
    assert len(script.requests) == 1 and delays == []  # not retried


def test_a_503_storm_ends_in_source_unavailable(server, delays):
    url, script = server
    script.responses = [(503, {}, b'{"message": "Service temporarily unavailable"}')] * 20
    with pytest.raises(SourceUnavailableError) as error:
        rows(url, max_attempts=4)
    # Typed for the run's retry policy, and one line for `blotter ingest`.
    assert isinstance(error.value, SourceUnavailable) and isinstance(error.value, TransientError)
    assert isinstance(error.value, IngestError) and error.value.exit_code == 1
    assert str(error.value) == (
        f"{url} kept failing with HTTP 503 after 4 attempts: Service temporarily unavailable"
    )
    assert len(script.requests) == 4 and len(delays) == 3
    assert delays == sorted(delays) and delays[-1] <= 30.0  # exponential, capped


def test_an_ingest_against_a_503_storm_stops_typed_and_in_one_line(server, delays, tmp_path):
    url, script = server
    script.responses = [(503, {}, b'{"message": "Service temporarily unavailable"}')] * 20
    with pytest.raises(SourceUnavailable) as error:  # through dlt's extract wrapping
        ingest_duckdb(url, tmp_path / "w.duckdb", date(2025, 6, 1), show_progress=False)
    message = str(error.value)
    assert isinstance(error.value, IngestError) and error.value.exit_code == 1
    assert message.startswith(f"{url} kept failing with HTTP 503 after 8 attempts")
    assert "\n" not in message and len(script.requests) == 8


def test_an_unreachable_host_is_source_unavailable_at_once(delays):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/resource/d6g9-xbgu.json"
    with pytest.raises(SourceUnavailableError, match=f"cannot reach {url}: connection refused"):
        rows(url, app_token=TOKEN)
    assert delays == []  # a refused connection is the run's to retry, not each request's


def test_invalid_json_in_a_200_is_transient(server, delays):
    url, script = server
    script.responses = [(200, {}, b'[{"case_number": "A"')]  # cut short
    with pytest.raises(SourceUnavailableError, match="invalid JSON in a 200 response"):
        rows(url)


def test_paging_stops_on_a_short_page(server):
    url, script = server
    page = json.dumps([{"n": i} for i in range(3)]).encode()
    script.responses = [(200, {}, page), (200, {}, page), (200, {}, b'[{"n": 9}]')]
    small = type(DATASET)(dataset_id=DATASET.dataset_id, page_size=3)
    assert [len(p) for p in rows(url, small)] == [3, 3, 1]
    assert len(script.requests) == 3  # no extra request for an empty page
    offsets = sorted(int(path.split("%24offset=")[1].split("&")[0]) for path, _ in script.requests)
    assert offsets == [0, 3, 6]
    assert "%24limit=3" in script.requests[0][0]
    assert "%24order=%3Aupdated_at%2C%3Aid" in script.requests[0][0]
    assert "%24select=%3A%2A%2C%2A" in script.requests[0][0]


def test_the_next_page_downloads_while_this_one_is_parsed(server, monkeypatch):
    url, script = server
    page = json.dumps([{"n": i} for i in range(3)]).encode()
    script.responses = [(200, {}, page), (200, {}, b'[{"n": 9}]')]
    requested: list[int] = []  # requests the server had seen when each page's values were read
    finish = PageParser.finish

    def finish_after_next_request(self, counted):
        deadline = time.monotonic() + 10
        while len(script.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        requested.append(len(script.requests))
        return finish(self, counted)

    monkeypatch.setattr(PageParser, "finish", finish_after_next_request)
    small = type(DATASET)(dataset_id=DATASET.dataset_id, page_size=3)
    assert rows(url, small) == [[{"n": i} for i in range(3)], [{"n": 9}]]
    assert requested == [2, 2] and len(script.requests) == 2  # overlapped, and no extra request


def test_where_clause_and_redaction():
    assert (
        build_where(DATASET, date(2025, 1, 1)) == "incident_datetime >= '2025-01-01T00:00:00.000'"
    )
    where = build_where(
        DATASET, date(2025, 1, 1), since=datetime(2025, 6, 7, 19, 7), until=datetime(2025, 6, 11)
    )
    assert where == (
        "incident_datetime >= '2025-01-01T00:00:00.000' and :updated_at >= "
        "'2025-06-07T19:07:00.000' and :updated_at < '2025-06-11T00:00:00.000'"
    )
    assert redact("https://x.org/resource/a.json?$$app_token=abc&a=1") == (
        "https://x.org/resource/a.json?a=1"
    )
    assert redact("https://me:pw@x.org/resource/a.json") == "https://x.org/resource/a.json"


def test_as_of_ends_at_local_midnight_in_utc():
    assert PROFILE.end_of_day_utc(date(2025, 6, 10)) == datetime(2025, 6, 11, 4, 0)  # EDT
    assert PROFILE.end_of_day_utc(date(2025, 1, 10)) == datetime(2025, 1, 11, 5, 0)  # EST


def test_a_backfill_whose_duplicates_span_pages_lands_the_newest_version(server, tmp_path):
    # Served with three-row pages: A's old version on page 1, its revision on page 3, C twice
    # with the same cursor (a paging overlap). Raw keeps A's revision and C's first copy; the
    # rest is quarantined with its payload, and the spool of pages is gone afterwards.
    url, script = server

    def rec(case: str, updated: str, note: str) -> dict:
        return {
            ":id": f"row-{case}-{note}",
            ":updated_at": f"2025-06-0{updated}T12:00:00.000Z",
            "case_number": case,
            "incident_datetime": "2025-06-01T10:00:00.000",
            "incident_description": note,
        }

    pages = [
        [rec("A", "2", "old"), rec("B", "2", "b"), rec("C", "3", "c1")],
        [rec("C", "3", "c2"), rec("D", "4", "d"), rec("E", "4", "e")],
        [rec("A", "5", "new")],
    ]
    script.responses = [(200, {}, json.dumps(page).encode()) for page in pages]
    path = tmp_path / "w.duckdb"
    result = ingest_duckdb(
        url, path, date(2025, 6, 1), as_of=date(2025, 6, 10), show_progress=False, page_size=3
    )
    assert (result.fetched, result.loaded, result.rejected, result.duplicates) == (7, 5, 2, 2)
    landed = dict(query(path, "select case_number, incident_description from raw.incidents"))
    assert landed == {"A": "new", "B": "b", "C": "c1", "D": "d", "E": "e"}
    rejected = query(path, "select case_number, reason, payload from raw.incidents_rejected")
    assert sorted(
        (case, json.loads(payload)["incident_description"]) for case, _, payload in rejected
    ) == [
        ("A", "old"),
        ("C", "c2"),
    ]
    assert all(reason.startswith("duplicate case_number") for _, reason, _ in rejected)
    spool = landing_state_dir(path) / "spool"
    assert spool.is_dir() and not list(spool.iterdir())
