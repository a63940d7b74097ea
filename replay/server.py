"""The replay API: a real HTTP server speaking enough SODA 2.1 for a real client.

It serves the synthetic city (Buffalo's d6g9-xbgu layout) or, with ``from_file``, a portal CSV
export under its profile's dataset id (see :mod:`replay.export`). Routes::

    GET /resource/<dataset>.json   rows (SoQL $select/$where/$order/$limit/$offset)
    GET /api/views/<dataset>.json  view metadata (columns, rowsUpdatedAt)
    GET /__replay/stats            fault counters (not part of SODA; for tests)

Errors are Socrata-shaped JSON: ``{"message", "errorCode", "code", "error", "data"}``.
The ``X-App-Token`` header (or ``$$app_token``) is accepted and never logged.

Environment variables read here: none.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import date
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson

from ingestion.profiles import SourceProfile, load_profile
from replay import geo
from replay.export import SUPPORTED_FAULTS, ExportDataset, read_export
from replay.faults import FaultState, validate
from replay.query import run_query, schema
from replay.soql import SoqlError
from replay.table import Table, get_table

DEFAULT_START = date(2015, 1, 1)


class SyntheticCity:
    """The synthetic city as a served dataset (history from ``start``, volume × ``scale``)."""

    dataset_id = geo.DATASET_ID
    title = "Crime Incidents (replay)"

    def __init__(self, start: date = DEFAULT_START, scale: float = 1.0) -> None:
        self.start, self.scale = start, scale

    def schema(self, faults: frozenset[str]) -> dict[str, str]:
        return schema(faults)

    def table(self, as_of: date) -> Table:
        return get_table(self.start, as_of, self.scale)


class ReplayServer(ThreadingHTTPServer):
    """Threading HTTP server carrying the replay configuration."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        port: int,
        as_of: date | None,
        faults: tuple[str, ...],
        scale: float = 1.0,
        start: date = DEFAULT_START,
        host: str = "127.0.0.1",
        dataset: ExportDataset | None = None,
    ) -> None:
        self.as_of = as_of
        self.dataset: SyntheticCity | ExportDataset = dataset or SyntheticCity(start, scale)
        self.fault_state = FaultState(validate(faults))
        if dataset is not None and not self.fault_state.faults <= SUPPORTED_FAULTS:
            extra = ", ".join(sorted(self.fault_state.faults - SUPPORTED_FAULTS))
            raise ValueError(
                f"fault(s) {extra} need the synthetic city; a file is served with "
                f"{', '.join(sorted(SUPPORTED_FAULTS))} only"
            )
        super().__init__((host, port), ReplayHandler)

    @property
    def resource_url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}/resource/{self.dataset.dataset_id}.json"

    def table(self) -> Table:
        """The table for the configured as-of (today, in local time, when unset)."""
        return self.dataset.table(self.as_of or date.today())


class ReplayHandler(BaseHTTPRequestHandler):
    """One request; answers JSON, keeps the connection alive (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    server: ReplayServer
    server_version = "BlotterReplay/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence per-request logs (the request line may carry ``$$app_token``)."""

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json;charset=utf-8",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str, code: str, data: dict | None = None) -> None:
        body = {"message": message, "errorCode": code, "code": code, "error": True}
        body["data"] = data or {}
        self._send(status, orjson.dumps(body))

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path.rstrip("/")
        if path == "/__replay/stats":
            self._send(200, orjson.dumps(self.server.fault_state.stats()))
        elif path.startswith("/resource/"):
            self._resource(path.removeprefix("/resource/"), params)
        elif path == f"/api/views/{self.server.dataset.dataset_id}.json":
            self._metadata()
        else:
            self._error(404, "Not found", "not_found", {"path": parts.path})

    def _resource(self, name: str, params: dict[str, str]) -> None:
        dataset, _, ext = name.partition(".")
        served = self.server.dataset
        if dataset != served.dataset_id:
            self._error(404, f"Dataset {dataset} not found", "not_found", {"dataset": dataset})
            return
        if ext not in ("", "json"):
            self._error(400, f"Format {ext!r} is not served by the replay API", "format.invalid")
            return
        outcome = self.server.fault_state.admit(params.get("$offset", "0").strip() in ("", "0"))
        if outcome.delay:
            time.sleep(outcome.delay)
        if outcome.status is not None:
            self._send(outcome.status, outcome.body, outcome.headers, outcome.content_type)
            return
        table = self.server.table()
        faults = self.server.fault_state.faults
        try:
            result = run_query(table, params, faults, served.schema(faults), served.dataset_id)
        except SoqlError as exc:
            self._error(400, str(exc), exc.code, {"dataset": served.dataset_id, **exc.data})
            return
        self._send(
            200,
            result.body,
            {
                "X-SODA2-Fields": orjson.dumps(result.fields).decode(),
                "X-SODA2-Types": orjson.dumps(result.types).decode(),
                "X-SODA2-Truth-Last-Modified": _http_date(table.last_modified_ms),
                "Last-Modified": _http_date(table.last_modified_ms),
            },
        )

    def _metadata(self) -> None:
        table = self.server.table()
        served = self.server.dataset
        fields = served.schema(self.server.fault_state.faults)
        body = {
            "id": served.dataset_id,
            "name": served.title,
            "rowsUpdatedAt": table.last_modified_ms // 1000,
            "columns": [
                {"fieldName": f, "dataTypeName": t, "position": i + 1}
                for i, (f, t) in enumerate(fields.items())
            ],
        }
        self._send(200, orjson.dumps(body))


def _http_date(epoch_ms: int) -> str:
    return formatdate(epoch_ms / 1000, usegmt=True)


def file_dataset(from_file: str | Path, profile: str | SourceProfile) -> ExportDataset:
    """Read a CSV export for serving under a profile (a name or a loaded profile).

    Raises:
        ProfileError: unknown profile; ExportError: the file does not fit the profile.
    """
    loaded = profile if isinstance(profile, SourceProfile) else load_profile(profile)
    return read_export(Path(from_file), loaded)


def source_for(server: ReplayServer) -> str:
    """What to ingest from: the resource URL, with ``#<profile>`` when serving a file."""
    if isinstance(server.dataset, ExportDataset):
        return f"{server.resource_url}#{server.dataset.profile.name}"
    return server.resource_url


@contextlib.contextmanager
def running_replay(
    as_of: date | None = None,
    faults: tuple[str, ...] = (),
    port: int = 0,
    scale: float = 1.0,
    start: date = DEFAULT_START,
    from_file: str | Path | None = None,
    profile: str | SourceProfile | None = None,
) -> Iterator[str]:
    """Run the replay API in a background thread; yields the source to ingest from.

    Port 0 picks a free port. The table for ``as_of`` is built before the URL is yielded,
    so the first request does not pay for generating the city. With ``from_file`` (and the
    ``profile`` it follows), a CSV export is served instead of the synthetic city and the
    yielded source is ``<resource URL>#<profile>``, which ``ingest``, ``load_profile`` and
    ``BLOTTER_SOURCE`` all accept.
    """
    dataset = None
    if from_file is not None:
        if profile is None:
            raise ValueError("serving a file needs the profile it follows")
        dataset = file_dataset(from_file, profile)
    server = ReplayServer(port, as_of, tuple(faults), scale=scale, start=start, dataset=dataset)
    server.table()
    thread = threading.Thread(target=server.serve_forever, name="replay-api", daemon=True)
    thread.start()
    try:
        yield source_for(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
