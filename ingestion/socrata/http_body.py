"""Reading a response body in 1 MiB reads instead of requests' 10 KiB ones.

``requests`` reads a (non-streamed) body as ``b"".join(iter_content(10 * 1024))``: a 50 MB SODA
page is ~5,000 reads through urllib3, ~0.25 CPU s a page in the fetch thread, which is the one
that requests the next page. 1 MiB reads take about half that (BENCHMARKS.md, e30). Only the
read size changes: the body is still read inside ``Session.send`` (so inside dlt's retries, a
dropped connection mid-body is retried as before), and requests' own ``iter_content`` still
turns urllib3's errors into ``ChunkedEncodingError`` / ``ConnectionError`` and decodes gzip.

Environment variables read here: none.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.models import CONTENT_CHUNK_SIZE

BODY_READ_BYTES = 1 << 20


class _PageResponse(requests.Response):
    """A response whose whole-body read (``content``) uses :data:`BODY_READ_BYTES` reads."""

    def iter_content(self, chunk_size: int | None = 1, decode_unicode: bool = False) -> Any:
        # requests' ``content`` asks for exactly CONTENT_CHUNK_SIZE; other callers keep theirs.
        if chunk_size == CONTENT_CHUNK_SIZE:
            chunk_size = BODY_READ_BYTES
        return super().iter_content(chunk_size, decode_unicode)


class PageAdapter(HTTPAdapter):
    """requests' HTTP adapter building :class:`_PageResponse` objects."""

    def build_response(self, req: Any, resp: Any) -> requests.Response:
        response = super().build_response(req, resp)
        response.__class__ = _PageResponse  # same fields; only iter_content's read size differs
        return response


def mount_page_adapter(session: requests.Session) -> None:
    """Make ``session`` read bodies in large reads (http and https; one page at a time, so
    the default connection pool is enough)."""
    adapter = PageAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
