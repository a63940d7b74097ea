"""Helpers shared by the ingestion tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb

RESOURCE_PATH = "/resource/d6g9-xbgu.json"


@contextmanager
def local_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free local port in a daemon thread; yields the dataset's URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}{RESOURCE_PATH}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def query(path: Path, sql: str, *params: Any) -> list[tuple]:
    """Run ``sql`` on a DuckDB file opened read-only and return all rows."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql, list(params)).fetchall()


def snapshot(path: Path) -> dict[str, tuple[str, str]]:
    """case_number -> (socrata_updated_at, _dlt_load_id) of every landed incident."""
    rows = query(path, "select case_number, socrata_updated_at, _dlt_load_id from raw.incidents")
    return {case: (updated, load) for case, updated, load in rows}


def accounting_holds(path: Path, result: Any) -> None:
    """Assert the run's accounting and that the table has no duplicate keys."""
    assert result.fetched == result.loaded + result.rejected, result
    total, distinct = query(
        path, "select count(*), count(distinct case_number) from raw.incidents"
    )[0]
    assert total == distinct == result.raw_rows
    if result.rejected:
        (rejected,) = query(
            path,
            "select count(*) from raw.incidents_rejected where _dlt_load_id = ?",
            result.load_id,
        )[0]
        assert rejected == result.rejected
