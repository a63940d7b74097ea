"""Typed errors every layer raises, so that the run's retry policy never reads message text.

A step is retried when it fails with a :class:`TransientError` (tenacity, in
``orchestration/run.py``); anything else stops the run. Each layer translates its library's
exceptions at its edge: ingestion turns a source's 429/5xx/timeout into
:class:`SourceUnavailable`, each engine turns a held lock into :class:`WarehouseBusy` and an
unreachable service into :class:`WarehouseUnreachable`.

Environment variables read here: none.
"""

from __future__ import annotations

import re


class DestinationError(ValueError):
    """The target cannot be built or landed to as configured; the message says which setting to
    fix. Here, not in ``engines/bigquery/``, so that resolving a DuckDB target imports no
    BigQuery module (dlt and the BigQuery client are ~1 CPU s of every command's start)."""


class TransientError(RuntimeError):
    """A failure that may pass on its own (network, rate limit, a short lock); worth a retry."""


class SourceUnavailable(TransientError):
    """The source API did not answer usefully (timeout, connection refused, 429, 5xx)."""


class WarehouseBusy(TransientError):
    """Another process holds the warehouse (a DuckDB file lock, a BigQuery concurrent update)."""


class WarehouseUnreachable(TransientError):
    """The warehouse service could not be reached or answered 5xx."""


# HTTP statuses that say "try again later" (rate limit, server or gateway trouble).
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def as_transient(exc: BaseException) -> TransientError | None:
    """The typed transient error ``exc`` stands for, or None when retrying cannot help.

    The one place that recognises library exceptions, by type, until each layer raises ours
    itself: requests/urllib3 network failures and retryable HTTP statuses (the source), Google
    API 429/5xx (BigQuery), a DuckDB file lock held by another process. Optional libraries are
    imported lazily, so an install without one of them still works. Only ``exc`` itself is
    examined; callers walk a wrapped chain (``orchestration.errors.cause_chain``).
    """
    if isinstance(exc, TransientError):
        return exc
    for translate in (_from_requests, _from_google, _from_duckdb):
        if (typed := translate(exc)) is not None:
            return typed
    if isinstance(exc, ConnectionError | TimeoutError):  # socket-level, whoever raised it
        return _typed(TransientError, exc)
    return None


def _typed(cls: type[TransientError], exc: BaseException) -> TransientError:
    typed = cls(str(exc) or type(exc).__name__)
    typed.__cause__ = exc
    return typed


def _from_requests(exc: BaseException) -> TransientError | None:
    try:
        import requests
        import urllib3.exceptions as u3
    except ImportError:  # pragma: no cover - requests is a dependency of dlt
        return None
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return _typed(SourceUnavailable, exc)
    if isinstance(exc, requests.HTTPError):
        status = getattr(exc.response, "status_code", None)
        return _typed(SourceUnavailable, exc) if status in RETRYABLE_STATUS else None
    network = (u3.TimeoutError, u3.ProtocolError, u3.NewConnectionError, u3.MaxRetryError)
    if isinstance(exc, network):
        return _typed(SourceUnavailable, exc)
    return None


def _from_google(exc: BaseException) -> TransientError | None:
    try:
        from google.api_core import exceptions as gax
    except ImportError:  # pragma: no cover - only with the BigQuery extras
        return None
    if isinstance(exc, gax.TooManyRequests):
        return _typed(WarehouseBusy, exc)
    unreachable = (
        gax.InternalServerError,
        gax.ServiceUnavailable,
        gax.BadGateway,
        gax.GatewayTimeout,
        gax.DeadlineExceeded,
    )
    return _typed(WarehouseUnreachable, exc) if isinstance(exc, unreachable) else None


def _from_duckdb(exc: BaseException) -> TransientError | None:
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a dependency
        return None
    # DuckDB has no exception type of its own for a held file lock: it is an IOException whose
    # message says so. A corrupt or missing file is an IOException too and must not be retried;
    # the quoted file name is left out, since a path may contain any word.
    if isinstance(exc, duckdb.IOException):
        unquoted = re.sub(r'"[^"]*"', "", str(exc)).lower()
        if "could not set lock" in unquoted or "conflicting lock" in unquoted:
            return _typed(WarehouseBusy, exc)
    return None
