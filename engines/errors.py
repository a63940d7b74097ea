"""Typed errors every layer raises, so that the run's retry policy never reads message text.

A step is retried when it fails with a :class:`TransientError` (tenacity, in
``orchestration/run.py``); anything else stops the run. Each layer translates its library's
exceptions at its edge: ingestion turns a source's 429/5xx/timeout into
:class:`SourceUnavailable`, each engine turns a held lock into :class:`WarehouseBusy` and an
unreachable service into :class:`WarehouseUnreachable`.

Environment variables read here: none.
"""

from __future__ import annotations


class TransientError(RuntimeError):
    """A failure that may pass on its own (network, rate limit, a short lock); worth a retry."""


class SourceUnavailable(TransientError):
    """The source API did not answer usefully (timeout, connection refused, 429, 5xx)."""


class WarehouseBusy(TransientError):
    """Another process holds the warehouse (a DuckDB file lock, a BigQuery concurrent update)."""


class WarehouseUnreachable(TransientError):
    """The warehouse service could not be reached or answered 5xx."""
