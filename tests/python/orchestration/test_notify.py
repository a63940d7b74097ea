"""Issue 15 item 3: the notifier posts with ``requests`` to a real local HTTP server; URL
credentials become basic auth (never part of the request line or a log), a slow or refusing
receiver costs at most the timeout and never fails the caller."""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from orchestration import notify
from orchestration.logs import configure_logging


class Hook:
    """A webhook on 127.0.0.1 recording the request line, headers and JSON body it is sent."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.requests.append(
                    {
                        "line": self.requestline,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(body),
                    }
                )
                time.sleep(hook.delay)
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}/services/T9/B9/hookpath-41f0"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    running = Hook()
    yield running
    running.close()


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    secrets = ["http://ops%40blotter:p%3Ass-7e2a@x", "p:ss-7e2a", "hookpath-41f0"]
    configure_logging("json", secrets, stream=stream)
    yield stream
    logging.getLogger("blotter").handlers.clear()


def test_url_credentials_become_basic_auth_and_leave_the_request_line(hook: Hook, logged) -> None:
    # Percent-encoded user and password ("ops@blotter", "p:ss-7e2a"), given as a SecretStr.
    webhook = SecretStr(hook.url("ops%40blotter:p%3Ass-7e2a@"))
    assert notify.send(webhook, {"text": "hello"})
    (got,) = hook.requests
    assert got["authorization"] == "Basic " + base64.b64encode(b"ops@blotter:p:ss-7e2a").decode()
    assert "p%3Ass" not in got["line"] and "ops" not in got["line"]
    assert got["content_type"] == "application/json" and got["body"] == {"text": "hello"}


def test_no_credentials_no_auth_header(hook: Hook) -> None:
    assert notify.send(hook.url(), {"text": "plain"})
    assert hook.requests[0]["authorization"] is None


def test_a_refusing_slow_or_absent_receiver_is_one_warning_and_false(hook: Hook, logged) -> None:
    url = hook.url("ops:p%3Ass-7e2a@")
    hook.status = 503
    assert not notify.send(url, {"text": "refused"})
    hook.status, hook.delay = 200, 3
    started = time.monotonic()
    assert not notify.send(url, {"text": "slow"}, timeout=0.5)
    assert time.monotonic() - started < 2.5
    hook.close()
    assert not notify.send(url, {"text": "nobody"})
    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    assert [line["reason"] for line in lines] == ["HTTP 503", "ReadTimeout", "ConnectionError"]
    assert all("run unaffected" in line["msg"] for line in lines)
    text = logged.getvalue()
    assert "ss-7e2a" not in text and "hookpath-41f0" not in text


def test_not_configured_sends_nothing(hook: Hook) -> None:
    assert not notify.send(None, {"text": "x"}) and not notify.send(SecretStr(""), {"text": "x"})
    assert hook.requests == []
