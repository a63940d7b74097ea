"""Run notifications: a Slack-compatible JSON POST (``{"text": ..., "blocks": [...]}``).

Sent on failure (which step, the error, the failing tests) and as a short summary on success.
A webhook that is down, slow or refuses the message is logged and ignored: a notification must
never change the outcome of a run.

Environment variables read here: none (``BLOTTER_NOTIFY_WEBHOOK`` is read by settings and passed
in; it is a secret, so it is never logged).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

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
    head = (
        f"{icon} Blotter run {summary.get('run_id')} {summary.get('status')} "
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
    return {
        "text": f"{head}\n{detail}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": detail[:2900]}},
        ],
        "blotter": {
            k: summary.get(k)
            for k in ("run_id", "status", "as_of", "target", "error", "failing_tests")
        },
    }


def send(webhook: str | None, payload: dict[str, Any], timeout: float = TIMEOUT_SECONDS) -> bool:
    """POST ``payload`` as JSON to ``webhook``. Never raises.

    Returns:
        True when the receiver answered 2xx; False when not configured or on any failure.
    """
    if not webhook:
        return False
    request = urllib.request.Request(
        webhook,
        data=json.dumps(payload, default=str).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        # The URL is a secret: log only the failure reason (the log filter redacts it anyway).
        reason = getattr(exc, "reason", None) or getattr(exc, "code", None) or type(exc).__name__
        log.warning("notification webhook failed; run unaffected", extra={"reason": str(reason)})
        return False


def notify_run(webhook: str | None, summary: dict[str, Any]) -> bool:
    """Send the success or failure message for ``summary`` (see :func:`build_message`)."""
    return send(webhook, build_message(summary))
