"""Pages fetched in a thread of their own, each next request sent as soon as this page is counted.

The paginator requests page k+1 once page k is counted (it must know that k was full). Before,
that request also waited for the caller's loop to come back for it: after the parse of page k-1
and the caller's work on page k-2 (BENCHMARKS.md, p33: ~1 s of waits in a 1M backfill). Here
the fetch thread runs the paginator on its own and hands each counted page over through a
one-place queue, so at most one counted page waits while the next downloads: memory still
follows the page (one more page body held than before), and no page is requested that the
paginator would not request.

Environment variables read here: none.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_POLL_SECONDS = 0.05  # how often a blocked hand-over checks that the caller still wants pages


class FetchAhead(Generic[T]):
    """Runs ``pages`` in a daemon thread; :meth:`get` returns them in order, then None.

    An exception raised by ``pages`` is raised by the :meth:`get` that would have returned the
    next page. :meth:`close` stops the thread at its next hand-over (a request in flight is
    not waited for, as the caller does not need its page).
    """

    def __init__(self, pages: Iterator[T], name: str = "soda-fetch") -> None:
        self._pages = pages
        self._queue: queue.Queue[tuple[T | None, BaseException | None]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for page in self._pages:
                if not self._put(page, None):
                    return
        except BaseException as exc:  # handed to the caller, raised there
            self._put(None, exc)
            return
        self._put(None, None)

    def _put(self, page: T | None, error: BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put((page, error), timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def get(self) -> T | None:
        """The next page, or None after the last one."""
        page, error = self._queue.get()
        if error is not None:
            raise error
        return page

    def close(self) -> None:
        """Stop fetching (idempotent)."""
        self._stop.set()
