"""Deterministic fault injection for the replay API (opt-in, by name).

Every fault fires at least once in any run that makes a request, however small the run.
A *run* starts with a request for the first page (``$offset`` 0 or absent) once the previous
run has been served; retries of that request belong to the same run. Request-level faults
count the requests of the run (1-based ``r``):

- a prologue on the first requests: ``http429`` answers 429 twice (``Retry-After: 1``), then
  ``http5xx`` answers 502 (an HTML proxy page) and 503 (JSON), so a one-page run retries
  through all of them;
- afterwards, counting ``n`` from the end of the prologue: ``http429`` on ``n % 8`` in {6, 7}
  (bursts of two every eight requests), ``http5xx`` on ``n % 9`` in {5, 6};
- ``slow``: requests with ``r % 3 == 1`` (the first included) wait 0.5, 1.0, 2.0 s in turn,
  at most 3.5 s per run.

Record-level faults are applied when a page is rendered (see :mod:`replay.query`):
``malformed``, ``duplicates``, ``drift_new_column``, ``drift_type_change``, ``future_dated``;
the first page of a run always carries the record faults too.

Environment variables read here: none.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

FAULT_NAMES = (
    "http429",
    "http5xx",
    "slow",
    "malformed",
    "duplicates",
    "drift_new_column",
    "drift_type_change",
    "future_dated",
)
REQUEST_FAULTS = ("http429", "http5xx", "slow")
RETRY_AFTER_SECONDS = 1
SLOW_DELAYS = (0.5, 1.0, 2.0)
SLOW_BUDGET_SECONDS = 3.5
DUPLICATES_PER_PAGE = 2
_TOO_MANY = (
    b'{"message":"Too many requests, please slow down","errorCode":"too_many_requests","data":{}}'
)
_UNAVAILABLE = (
    b'{"message":"Service temporarily unavailable","errorCode":"service_unavailable","data":{}}'
)


def validate(faults: tuple[str, ...] | list[str]) -> frozenset[str]:
    """Check fault names, raising ValueError naming any unknown one."""
    unknown = [f for f in faults if f not in FAULT_NAMES]
    if unknown:
        raise ValueError(
            f"unknown replay fault(s) {', '.join(unknown)}; choose from {', '.join(FAULT_NAMES)}"
        )
    return frozenset(faults)


@dataclass
class Outcome:
    """What to do with one request before answering it."""

    delay: float = 0.0
    status: int | None = None  # an injected error status, or None to serve normally
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "application/json;charset=utf-8"


def _error(status: int) -> Outcome:
    if status == 429:
        return Outcome(
            status=429, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, body=_TOO_MANY
        )
    if status == 502:
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return Outcome(status=502, body=body, content_type="text/html")
    return Outcome(status=503, body=_UNAVAILABLE)


@dataclass
class FaultState:
    """Per-server fault counters (thread-safe); ``stats()`` is served at ``/__replay/stats``."""

    faults: frozenset[str]
    requests: int = 0
    runs: int = 0
    served_429: int = 0
    served_5xx: int = 0
    slow_requests: int = 0
    slow_seconds: float = 0.0
    _run_requests: int = 0
    _run_slow: float = 0.0
    _run_served: bool = True  # so that the very first request starts run 1
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def prologue(self) -> list[int]:
        """Statuses injected on the first requests of every run."""
        out = [429, 429] if "http429" in self.faults else []
        return out + ([502, 503] if "http5xx" in self.faults else [])

    def admit(self, first_page: bool = True) -> Outcome:
        """Count a ``/resource`` request and decide its injected fault, if any.

        Args:
            first_page: The request asks for the first page (``$offset`` 0): it starts a new
                run when the previous run was served.
        """
        with self._lock:
            self.requests += 1
            if first_page and self._run_served:
                self.runs += 1
                self._run_requests, self._run_slow, self._run_served = 0, 0.0, False
            self._run_requests += 1
            r = self._run_requests
            out = Outcome()
            if "slow" in self.faults and r % 3 == 1:
                delay = SLOW_DELAYS[(r // 3) % len(SLOW_DELAYS)]
                if self._run_slow + delay <= SLOW_BUDGET_SECONDS:
                    self._run_slow += delay
                    self.slow_requests += 1
                    self.slow_seconds += delay
                    out.delay = delay
            prologue = self.prologue
            n = r - len(prologue)
            status = None
            if n <= 0:
                status = prologue[r - 1]
            elif "http429" in self.faults and n % 8 in (6, 7):
                status = 429
            elif "http5xx" in self.faults and n % 9 in (5, 6):
                status = 502 if n % 9 == 5 else 503
            if status is None:
                self._run_served = True
                return out
            if status == 429:
                self.served_429 += 1
            else:
                self.served_5xx += 1
            return Outcome(**{**_error(status).__dict__, "delay": out.delay})

    def stats(self) -> dict[str, object]:
        """Counters for tests and operators."""
        with self._lock:
            return {
                "faults": sorted(self.faults),
                "requests": self.requests,
                "runs": self.runs,
                "served_429": self.served_429,
                "served_5xx": self.served_5xx,
                "slow_requests": self.slow_requests,
                "slow_seconds": self.slow_seconds,
            }
