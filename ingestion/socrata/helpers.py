"""HTTP and SoQL helpers of the Socrata source: one resilient GET, paging, query building.

Retries follow dev.socrata.com/docs/response-codes: 202 (still processing), 429 (throttled), 5xx,
timeouts and dropped connections are retried with exponential backoff, honouring ``Retry-After``;
any other 4xx is permanent and stops the run with a one-line :class:`SourceError`.
The app token travels only in the ``X-App-Token`` header, so no URL or message ever contains it.
"""

from __future__ import annotations

import gc
import logging
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import requests

from ingestion.socrata import settings as cfg
from ingestion.socrata.settings import DatasetSettings

log = logging.getLogger("blotter.ingestion")

_RETRY_STATUS = {202, 429, 500, 502, 503, 504}
_MAX_RETRY_AFTER = 300.0


class SourceError(RuntimeError):
    """The source cannot be read; the message is one line, names the URL, never the token."""


def redact(url: str) -> str:
    """Drop credentials (``user:pass@``, a ``$$app_token`` parameter) from a URL."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if "token" not in k.lower()]
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


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


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return min(max(float(raw), 0.0), _MAX_RETRY_AFTER)
    except ValueError:
        pass
    try:  # HTTP-date form
        delay = parsedate_to_datetime(raw).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
    return min(max(delay, 0.0), _MAX_RETRY_AFTER)


def _socrata_message(response: requests.Response) -> str:
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


def _parse_page(body: bytes) -> Any:
    """``orjson.loads`` with the cyclic GC paused: a 50,000-row page is ~1M new objects, and
    the collections they trigger (none of them garbage) more than double the parse time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return orjson.loads(body)
    finally:
        if was_enabled:
            gc.enable()


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in (
        ("refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("Temporary failure in name resolution", "DNS lookup failed"),
        ("timed out", "connection timed out"),
    ):
        if needle in text:
            return reason
    return type(exc).__name__


class SodaClient:
    """A ``requests`` session bound to one SODA resource URL.

    Args:
        url: ``https://host/resource/<id>.json`` (or the replay API's URL).
        dataset: Settings of that dataset (page size, timeout, order).
        app_token: Optional Socrata app token, sent as the ``X-App-Token`` header.
        sleep: Injected for tests; defaults to ``time.sleep``.
    """

    def __init__(
        self,
        url: str,
        dataset: DatasetSettings,
        app_token: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.safe_url = redact(url)
        self.dataset = dataset
        self.sleep = sleep
        self.retries = 0
        self.announced: dict[str, str] = {}  # field -> Socrata type, from X-SODA2-* headers
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if app_token:
            self.session.headers["X-App-Token"] = app_token

    def close(self) -> None:
        self.session.close()

    def get_rows(self, params: dict[str, Any]) -> list[Any]:
        """GET one page and return its JSON array, retrying transient failures.

        Raises:
            SourceError: on a permanent 4xx, an unreachable host, or retries exhausted.
        """
        attempt = 0
        while True:
            attempt += 1
            delay: float | None = None
            try:
                response = self.session.get(self.url, params=params, timeout=self.dataset.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                refused = isinstance(exc, requests.ConnectionError) and not isinstance(
                    exc, requests.ConnectTimeout
                )
                limit = cfg.MAX_CONNECT_ATTEMPTS if refused else cfg.MAX_ATTEMPTS
                what = _connection_reason(exc)
                if attempt >= limit:
                    raise SourceError(
                        f"cannot reach {self.safe_url}: {what} (after {attempt} attempts)"
                    ) from None
            else:
                status = response.status_code
                if status == 200:
                    try:
                        rows = _parse_page(response.content)
                    except orjson.JSONDecodeError:
                        what = "invalid JSON in a 200 response"
                    else:
                        if isinstance(rows, list):
                            self._note_schema(response.headers)
                            return rows
                        what = f"expected a JSON array, got {type(rows).__name__}"
                    if attempt >= cfg.MAX_ATTEMPTS:
                        raise SourceError(f"{self.safe_url} returned {what}")
                elif status in _RETRY_STATUS:
                    what = f"HTTP {status}"
                    delay = _retry_after(response)
                    if attempt >= cfg.MAX_ATTEMPTS:
                        raise SourceError(
                            f"{self.safe_url} kept failing with HTTP {status} "
                            f"after {attempt} attempts: {_socrata_message(response)}"
                        )
                else:
                    raise SourceError(
                        f"{self.safe_url} answered HTTP {status}: {_socrata_message(response)}"
                    )
            if delay is None:
                backoff = min(cfg.BACKOFF_CAP, cfg.BACKOFF_BASE * 2 ** (attempt - 1))
                delay = backoff * (0.5 + random.random() / 2)  # jitter spreads retries out
            self.retries += 1
            log.warning(
                "%s from %s; retrying in %.1f s (attempt %d)", what, self.safe_url, delay, attempt
            )
            self.sleep(delay)

    def _note_schema(self, headers: Any) -> None:
        """Remember the fields and types a page announced (schema drift is judged on them)."""
        try:
            fields = orjson.loads(headers.get("X-SODA2-Fields") or "[]")
            types = orjson.loads(headers.get("X-SODA2-Types") or "[]")
        except orjson.JSONDecodeError:
            return  # a portal's malformed header must not fail the fetch
        if isinstance(fields, list) and isinstance(types, list) and len(fields) == len(types):
            self.announced.update(zip(map(str, fields), map(str, types), strict=True))

    def pages(self, where: str) -> Iterator[list[Any]]:
        """Yield every page of ``where``, ordered by cursor then a unique id (stable paging).

        SODA has no cursor and no has-more flag, so paging stops on a short or empty page.
        The next page is fetched in a background thread while the caller processes this one.
        """
        size = self.dataset.page_size
        base = {
            "$select": ":*,*",  # system fields (the cursor) come back only when selected
            "$where": where,
            "$order": f"{self.dataset.cursor},{self.dataset.tiebreak}",
            "$limit": size,
        }

        def fetch(offset: int) -> list[Any]:
            return self.get_rows({**base, "$offset": offset})

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soda-prefetch")
        try:
            offset = 0
            pending: Future[list[Any]] = pool.submit(fetch, offset)
            while True:
                rows = pending.result()
                if len(rows) < size:
                    if rows:
                        yield rows
                    return
                offset += size
                pending = pool.submit(fetch, offset)
                yield rows
        finally:
            # On an early exit the prefetched page is not needed: don't wait for it.
            pool.shutdown(wait=False, cancel_futures=True)


def lookback_start(last_cursor: str | None, lookback: timedelta) -> datetime | None:
    """The inclusive cursor lower bound of an incremental run (None on a first run)."""
    if not last_cursor:
        return None
    return parse_fixed_timestamp(last_cursor) - lookback
