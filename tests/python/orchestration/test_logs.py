"""Secrets never reach the logs, in text or JSON format."""

from __future__ import annotations

import io
import json

import pytest

from orchestration.logs import Redactor, configure_logging, get_logger
from orchestration.settings import secret_values

TOKEN = "s3cr3tAppT0ken"
HOOK = "https://hooks.slack.com/services/T0001/B0002/XyZsecretpath"
KEY = "pseudonym-key-value"


def _emit(log_format: str) -> str:
    env = {
        "BLOTTER_SOCRATA_APP_TOKEN": TOKEN,
        "BLOTTER_NOTIFY_WEBHOOK": HOOK,
        "BLOTTER_PSEUDONYM_KEY": KEY,
        "HOME": "/root",
    }
    stream = io.StringIO()
    configure_logging(log_format, secret_values(env), stream=stream)
    log = get_logger("test")
    log.info(
        "fetching https://data.example.gov/resource/abcd-1234.json?$$app_token=%s&$limit=5",
        TOKEN,
    )
    log.warning("posting to %s", HOOK, extra={"webhook": HOOK, "headers": {"X-App-Token": TOKEN}})
    log.info("unconfigured token in url https://u:pw@h.example/x?token=abc123&x=1")
    try:
        raise RuntimeError(f"HTTP 403 for ...?$$app_token={TOKEN} key={KEY}")
    except RuntimeError:
        log.exception("ingest failed", extra={"step": "ingest"})
    return stream.getvalue()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_are_redacted(log_format: str) -> None:
    out = _emit(log_format)
    for secret in (TOKEN, HOOK, "XyZsecretpath", KEY, "abc123", "u:pw@"):
        assert secret not in out, secret
    assert "***" in out
    assert "$limit=5" in out and "ingest failed" in out  # the rest of the message survives


def test_json_lines_are_structured() -> None:
    lines = [json.loads(line) for line in _emit("json").splitlines() if line.startswith("{")]
    assert len(lines) == 4
    assert lines[1]["level"] == "warning" and lines[1]["headers"] == {"X-App-Token": "***"}
    assert lines[3]["step"] == "ingest" and "RuntimeError" in lines[3]["exc"]
    assert {"ts", "level", "logger", "msg"} <= set(lines[0])


def test_redactor_prefers_longest_secret() -> None:
    redact = Redactor(["abcd", "abcdefgh"])
    assert redact("x abcdefgh y") == "x *** y"
    assert redact.value({"a": ["abcd", 3]}) == {"a": ["***", 3]}
