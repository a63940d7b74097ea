"""SoQL and URL helpers of the Socrata source: the ``$where`` window, timestamps, redaction.

The HTTP side (retries, paging) is dlt's REST client, see ``ingestion/socrata/client.py``.

Environment variables read here: none.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import requests

from ingestion.socrata.settings import DatasetSettings


def redact(url: str) -> str:
    """Drop credentials (``user:pass@``, a ``$$app_token`` parameter) from a URL."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if "token" not in k.lower()]
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def split_token(url: str) -> tuple[str, str | None]:
    """``url`` without its ``$$app_token`` parameter, and that token (None: there was none)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query)
    token = next((v for k, v in pairs if k == "$$app_token"), None)
    rest = urlencode([(k, v) for k, v in pairs if k != "$$app_token"])
    return urlunsplit(parts._replace(query=rest)), token


def soql_timestamp(value: datetime) -> str:
    """Format a naive SoQL timestamp literal with milliseconds (``2024-03-05T19:07:00.000``)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def parse_fixed_timestamp(text: str) -> datetime:
    """Parse a Socrata fixed timestamp (``2024-03-05T19:07:00.000Z``) as a naive UTC datetime."""
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=None)


def build_where(
    dataset: DatasetSettings,
    start_date: date,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """Build the ``$where`` clause of one extraction.

    Args:
        dataset: Dataset settings (date field and cursor names come from a validated profile:
            plain identifiers and system fields only).
        start_date: First incident day of the warehouse: older incidents are never loaded.
        since: Inclusive lower bound on the cursor (stored cursor minus the look-back).
        until: Exclusive upper bound on the cursor: the end of the as-of day, in UTC.
    """
    clauses = [f"{dataset.date_field} >= '{start_date.isoformat()}T00:00:00.000'"]
    if since is not None:
        clauses.append(f"{dataset.cursor} >= '{soql_timestamp(since)}'")
    if until is not None:
        clauses.append(f"{dataset.cursor} < '{soql_timestamp(until)}'")
    return " and ".join(clauses)


def socrata_message(response: requests.Response) -> str:
    """The ``message`` of a Socrata JSON error body, else the start of the body, on one line."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        text = str(body.get("message") or body.get("error") or body)
    else:
        text = response.text
    text = " ".join(text.split())
    return text[:200] or response.reason or "no message"


def lookback_start(last_cursor: str | None, lookback: timedelta) -> datetime | None:
    """The inclusive cursor lower bound of an incremental run (None on a first run)."""
    if not last_cursor:
        return None
    return parse_fixed_timestamp(last_cursor) - lookback
