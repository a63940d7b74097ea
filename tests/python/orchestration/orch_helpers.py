"""Helpers for the orchestration tests: a webhook receiver, schema digests, CLI processes."""

from __future__ import annotations

import hashlib
import json
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

from engines.duckdb.colours import live_prefixes
from engines.duckdb.publish import rewrite_view_sql


class Receiver:
    """A Slack-like webhook on 127.0.0.1 that records every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.bodies.append(
                    {
                        "content_type": self.headers.get("Content-Type"),
                        "authorization": self.headers.get("Authorization"),
                        **json.loads(body),
                    }
                )
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/secretpath"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _physical(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, str]:
    """``{physical schema: published schema}``: a published schema's live colour (blue/green,
    ``engines.duckdb.colours``) holds its rows; the published schema itself holds views."""
    live = live_prefixes(con)
    return {live.get(s, "") + s: s for s in schemas}


def schema_digest(path: Path, schemas: tuple[str, ...]) -> dict[str, str]:
    """Content hash of every table (columns + order-independent row hashes) and view (its SQL).

    Keyed by published name: what a published view reads is hashed where it physically is (the
    live colour), views with colour names read back as published names, so a flip to an equal
    copy changes nothing here and any changed row or definition does. Views are hashed by
    definition: their rows follow ``raw``, which is never rolled back.
    """
    digests: dict[str, str] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        physical = _physical(con, schemas)
        renames = {p: s for p, s in physical.items() if p != s}
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where list_contains(?, schema_name) order by 1, 2",
            [list(physical)],
        ).fetchall()
        for schema, name in tables:
            rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
            row_hashes = sorted(hashlib.sha256(repr(r).encode()).hexdigest() for r in rows)
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            digests[f"{physical[schema]}.{name}"] = hashlib.sha256(
                repr((cols, row_hashes)).encode()
            ).hexdigest()
        views = con.execute(
            "select schema_name, view_name, sql from duckdb_views() "
            "where not internal and list_contains(?, schema_name)",
            [list(physical)],
        ).fetchall()
        for schema, name, sql in views:
            sql = rewrite_view_sql(sql, renames)
            digests[f"{physical[schema]}.{name}"] = hashlib.sha256(sql.encode()).hexdigest()
        # What readers see: the published views onto the colour (names and definitions).
        published = con.execute(
            "select schema_name, view_name, sql from duckdb_views() "
            "where not internal and list_contains(?, schema_name) order by 1, 2",
            [[s for p, s in physical.items() if p != s]],
        ).fetchall()
        for schema, name, sql in published:
            key = f"{schema}.{name}"
            seen = digests.get(key, "missing") + rewrite_view_sql(sql, renames)
            digests[key] = hashlib.sha256(seen.encode()).hexdigest()
    return digests


REPO = Path(__file__).resolve().parents[3]


def blotter_process(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """``blotter ARGS`` as its own process (this checkout's code), stderr piped as text."""
    env = {**env, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 300) -> list[str]:
    """Read ``proc``'s stderr until a line contains ``needle``; returns the lines read."""
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if not ready:
            continue
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"process ended before {needle!r}:\n{''.join(lines)[-3000:]}")
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"no {needle!r} within {timeout}s:\n{''.join(lines)[-3000:]}")


def wait_for(predicate: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    """Poll ``predicate`` every 50 ms until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)
