"""Reading one SODA resource through dlt's REST client: retries, paging, typed failures.

The HTTP policy is dlt's (``dlt.sources.helpers.requests.Client``, tenacity underneath):
429, 5xx and 202 (still processing), timeouts and dropped connections are retried with
exponential backoff, honouring ``Retry-After`` (dev.socrata.com/docs/response-codes). Paging is
dlt's ``RESTClient.paginate`` with an offset paginator on ``$limit``/``$offset`` that stops on a
short page (SODA has no total and no has-more flag). What the client cannot get ends the run
with one line: :class:`SourceUnavailableError` (a :class:`~engines.errors.SourceUnavailable`,
so the run retries the step) when the source does not answer after the retries, a permanent
:class:`SourceError` for any other 4xx or a page that is not a JSON array.

The app token travels only in the session's ``X-App-Token`` header (one given as ``$$app_token``
in the URL is moved there): never in a URL, a message, or dlt's request log (which prints URLs
and per-request headers, not the session's).

Environment variables read here: none of Blotter's. dlt's own ``RUNTIME__*`` HTTP settings are
not used: the policy is passed explicitly from ``ingestion/socrata/settings.py``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
from urllib3.exceptions import NewConnectionError

from engines.errors import SourceUnavailable
from ingestion.errors import IngestError
from ingestion.pages import CountChanged, Counted, NotAnArray, Page, PageParser
from ingestion.socrata import settings as cfg
from ingestion.socrata.fetch_ahead import FetchAhead
from ingestion.socrata.helpers import redact, socrata_message, split_token
from ingestion.socrata.http_body import mount_page_adapter
from ingestion.socrata.settings import DatasetSettings

log = logging.getLogger("blotter.ingestion")

RETRY_STATUS = (202, 429, 500, 502, 503, 504)


class SourceError(IngestError):
    """The source cannot be read (a permanent 4xx, not a JSON array); one line, no token."""


class SourceUnavailableError(SourceError, SourceUnavailable):
    """The source did not answer after the client's retries (timeouts, refused, 429, 5xx).

    A :class:`~engines.errors.SourceUnavailable`, so ``blotter run`` retries the step, and an
    :class:`~ingestion.errors.IngestError`, so ``blotter ingest`` prints it as one line.
    """


def _dropped(response: requests.Response | None, exc: BaseException | None) -> bool:
    """Retry a connection that dropped mid-request, not one the host refused (or DNS)."""
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.Timeout):
        return False
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return not isinstance(reason, NewConnectionError)


class SodaPaginator(OffsetPaginator):
    """``$limit``/``$offset`` paging that stops on a short page (no extra empty request).

    Each page of data is ``[Counted]``: the counted page travels through dlt's paginator whole.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit, offset_param="$offset", limit_param="$limit", total_path=None)

    def _stop_after_this_page(self, data: list[Any] | None = None) -> bool:
        return not data or len(data[0]) < self.limit


@contextmanager
def _page_errors(safe: str) -> Iterator[None]:
    """A body that is not a JSON array, as the client's one-line errors."""
    try:
        yield
    except orjson.JSONDecodeError:
        raise SourceUnavailableError(f"{safe} returned invalid JSON in a 200 response") from None
    except NotAnArray as exc:
        raise SourceError(f"{safe} returned a JSON {exc.kind}, not an array") from None
    except CountChanged as exc:  # the paginator went on that count: never land such a page
        raise SourceError(f"{safe}: page parsing is inconsistent ({exc}); report it") from None


def announced_fields(headers: Any) -> list[str]:
    """The names in a response's ``X-SODA2-Fields`` (empty if absent or not a list of names)."""
    try:
        fields = orjson.loads(headers.get("X-SODA2-Fields") or "[]")
    except orjson.JSONDecodeError:
        return []
    return [f for f in fields if type(f) is str] if isinstance(fields, list) else []


class _SodaRESTClient(RESTClient):
    """dlt's REST client counting pages (the paginator's stop) and refusing a non-array 200."""

    def __init__(self, parser: PageParser, **options: Any) -> None:
        super().__init__(**options)
        self.parser = parser

    def extract_response(self, response: requests.Response, data_selector: Any) -> list[Any]:
        safe = redact(response.url or "")
        if response.status_code != 200:  # a 202 that outlasted the retries
            raise SourceUnavailableError(f"{safe} kept answering HTTP {response.status_code}")
        with _page_errors(safe):
            counted = self.parser.count(response.content, announced_fields(response.headers))
        counted.where = safe
        return [counted]


class SodaClient:
    """dlt's REST client bound to one SODA resource URL.

    Args:
        url: ``https://host/resource/<id>.json`` (or the replay API's URL).
        dataset: Settings of that dataset (page size, timeout, order).
        app_token: Optional Socrata app token, sent as the ``X-App-Token`` header.
        max_attempts: Attempts per request before giving up (tests use fewer).
        workdir: Where the page being parsed is written for DuckDB (default: a temporary
            directory of the client's own, removed by :meth:`close`).

    Attributes:
        retries: Responses that were retried (429, 5xx, 202), for the run's report.
        announced: Field -> Socrata type, from the ``X-SODA2-*`` headers of the pages read.
    """

    def __init__(
        self,
        url: str,
        dataset: DatasetSettings,
        app_token: str | None = None,
        max_attempts: int = cfg.MAX_ATTEMPTS,
        workdir: Path | None = None,
    ) -> None:
        # A token given in the URL moves to the header too: dlt's debug log prints URLs.
        url, url_token = split_token(url)
        app_token = app_token or url_token
        self.url = url
        self.safe_url = redact(url)
        self.dataset = dataset
        self.max_attempts = max_attempts
        self.retries = 0
        self.announced: dict[str, str] = {}
        self._http = Client(
            request_timeout=dataset.timeout,
            raise_for_status=False,
            status_codes=RETRY_STATUS,
            exceptions=(requests.Timeout, requests.exceptions.ChunkedEncodingError),
            retry_condition=_dropped,
            request_max_attempts=max_attempts,
            request_backoff_factor=cfg.BACKOFF_BASE,
            request_max_retry_delay=cfg.BACKOFF_CAP,
            respect_retry_after_header=True,
        )
        self._session = session = self._http.session
        mount_page_adapter(session)  # pages read in 1 MiB reads, see http_body
        session.headers["Accept"] = "application/json"
        if app_token:  # on the session, so dlt's debug log of request headers never shows it
            session.headers["X-App-Token"] = app_token
        self._own_dir = Path(tempfile.mkdtemp(prefix="soda-")) if workdir is None else None
        self._parser = PageParser(workdir or self._own_dir)  # type: ignore[arg-type]
        self._rest = _SodaRESTClient(
            self._parser,
            base_url=url,
            paginator=SodaPaginator(dataset.page_size),
            data_selector="$",  # the page is the array; never let dlt parse it to guess
            session=session,
        )

    def close(self) -> None:
        self._session.close()
        self._parser.close()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Every attempt's response: count and log retries, note the schema, raise on 4xx/5xx."""
        status = response.status_code
        if status in RETRY_STATUS:
            self.retries += 1
            log.warning("HTTP %d from %s (attempt %d)", status, self.safe_url, self.retries)
        elif status == 200:
            self._note_schema(response.headers)
        response.raise_for_status()  # inside dlt's retry: a 429/5xx is retried, a 400 is not

    def _note_schema(self, headers: Any) -> None:
        """Remember the fields and types a page announced (schema drift is judged on them)."""
        try:
            fields = orjson.loads(headers.get("X-SODA2-Fields") or "[]")
            types = orjson.loads(headers.get("X-SODA2-Types") or "[]")
        except orjson.JSONDecodeError:
            return  # a portal's malformed header must not fail the fetch
        if isinstance(fields, list) and isinstance(types, list) and len(fields) == len(types):
            self.announced.update(zip(map(str, fields), map(str, types), strict=True))

    def _failure(self, exc: Exception) -> SourceError:
        """The one-line error for what dlt's client gave up on."""
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status, message = exc.response.status_code, socrata_message(exc.response)
            if status in RETRY_STATUS:
                return SourceUnavailableError(
                    f"{self.safe_url} kept failing with HTTP {status} after "
                    f"{self.max_attempts} attempts: {message}"
                )
            return SourceError(f"{self.safe_url} answered HTTP {status}: {message}")
        if isinstance(exc, requests.Timeout):
            what = "connection timed out"
        elif isinstance(exc, requests.ConnectionError):
            what = "connection refused or unknown host" if not _dropped(None, exc) else "dropped"
        else:
            what = type(exc).__name__
        return SourceUnavailableError(f"cannot reach {self.safe_url}: {what}")

    def _paginate(self, params: dict[str, Any]) -> Iterator[Counted]:
        hooks: dict[str, Any] = {"response": [self._on_response]}
        try:
            for data in self._rest.paginate(params=params, hooks=hooks):
                yield data[0]
        except requests.RequestException as exc:
            raise self._failure(exc) from None

    def _finish(self, counted: Counted) -> Page:
        with _page_errors(counted.where):
            return self._parser.finish(counted)

    def pages(self, where: str) -> Iterator[Page]:
        """Yield every page of ``where``, ordered by cursor then a unique id (stable paging).

        Three pages overlap: once a page is counted (its fullness decides whether there is a
        next one) the next is requested in the fetch thread, which runs on its own
        (:mod:`~ingestion.socrata.fetch_ahead`), while this one's values are parsed in the
        parse thread (DuckDB and Arrow without the GIL) and the caller works on the previous
        one. A next page is still only requested after a full one.
        """
        params = {
            "$select": ":*,*",  # system fields (the cursor) come back only when selected
            "$where": where,
            "$order": f"{self.dataset.cursor},{self.dataset.tiebreak}",
        }
        fetch: FetchAhead[Counted] = FetchAhead(self._paginate(params))
        parse = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soda-parse")
        try:
            parsing: Future[Page] | None = None
            while True:
                counted = fetch.get()
                done = parsing.result() if parsing is not None else None
                parsing = parse.submit(self._finish, counted) if counted is not None else None
                if done:
                    yield done
                if counted is None:
                    return
        finally:
            # On an early exit the pages in flight are not needed: don't wait for them.
            fetch.close()
            parse.shutdown(wait=False, cancel_futures=True)
