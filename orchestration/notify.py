"""Run notifications: a Slack-compatible JSON POST (``{"text": ..., "blocks": [...]}``).

Sent on failure (which step, the error, the failing tests) and as a short summary on success.
A webhook that is down, slow or refuses the message is logged and ignored: a notification must
never change the outcome of a run.

Credentials in the URL (``https://user:password@host/hook``) are sent as HTTP basic auth
(``requests`` takes them from the URL).

Environment variables read here: none (``BLOTTER_NOTIFY_WEBHOOK`` is read by settings and passed
in; it is a secret, so neither it nor its credentials are ever logged).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from pydantic import SecretStr
from requests.auth import HTTPBasicAuth

from orchestration.logs import get_logger

TIMEOUT_SECONDS = 10
log = get_logger("notify")


def build_message(summary: dict[str, Any]) -> dict[str, Any]:
    """Slack payload for a run summary (the dict :class:`orchestration.run.RunSummary` makes).

    The top-level ``text`` is the fallback every Slack-compatible receiver shows; ``blocks`` add
    detail. Structured fields are repeated under ``blotter`` for non-Slack receivers.
    """
    ok = summary.get("status") == "succeeded"
    icon = ":white_check_mark:" if ok else ":rotating_light:"
    command = summary.get("command") or "run"
    head = (
        f"{icon} Blotter {command} {summary.get('run_id')} {summary.get('status')} "
        f"(as of {summary.get('as_of')}, target {summary.get('target')})"
    )
    if ok:
        detail = (
            f"fetched {summary.get('rows_fetched')}, loaded {summary.get('rows_loaded')}, "
            f"rejected {summary.get('rows_rejected')}; tests passed {summary.get('tests_passed')}"
        )
    else:
        failed_step = next(
            (n for n, s in summary.get("steps", {}).items() if s.get("status") == "failed"), None
        )
        detail = f"failed step: {failed_step}; error: {summary.get('error')}"
        failing = summary.get("failing_tests") or []
        if failing:
            detail += "\nfailing tests: " + ", ".join(failing[:20])
    notes = summary.get("notes") or []
    if notes:
        detail += "\nnotes: " + "; ".join(notes[:20])
    return {
        "text": f"{head}\n{detail}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": detail[:2900]}},
        ],
        "blotter": {
            k: summary.get(k)
            for k in ("run_id", "status", "as_of", "target", "error", "failing_tests", "notes")
        },
    }


Webhook = SecretStr | str | None


def send(webhook: Webhook, payload: dict[str, Any], timeout: float = TIMEOUT_SECONDS) -> bool:
    """POST ``payload`` as JSON to ``webhook`` (``Settings.notify_webhook``). Never raises.

    The URL's ``user:password@`` travels as HTTP basic auth, never in the request line.

    Returns:
        True when the receiver answered 2xx; False when not configured or on any failure.
    """
    url = webhook.get_secret_value() if isinstance(webhook, SecretStr) else webhook
    if not url:
        return False
    bare, auth = split_credentials(url)
    try:
        response = requests.post(
            bare,
            auth=auth,
            data=json.dumps(payload, default=str).encode(),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        # The URL is a secret and requests puts it in its messages: log the kind of failure only.
        log.warning(
            "notification webhook failed; run unaffected", extra={"reason": type(exc).__name__}
        )
        return False
    if not response.ok:
        log.warning(
            "notification webhook refused the message; run unaffected",
            extra={"reason": f"HTTP {response.status_code}"},
        )
    return response.ok


def split_credentials(url: str) -> tuple[str, HTTPBasicAuth | None]:
    """``https://user:pw@host/p`` → (``https://host/p``, basic auth for user/pw, unquoted)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare, HTTPBasicAuth(unquote(parts.username), unquote(parts.password or ""))


def notify_run(webhook: Webhook, summary: dict[str, Any]) -> bool:
    """Send the success or failure message for ``summary`` (see :func:`build_message`)."""
    return send(webhook, build_message(summary))
