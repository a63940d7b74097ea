"""Deterministic fault injection for the replay API (opt-in, by name).

Request-level faults count the ``/resource`` requests a server has received (1-based ``n``), so a
client that pages sequentially sees exactly the same faults on every run:

- ``http429``: requests with ``n % 8`` in {2, 3} get 429 with ``Retry-After: 1`` (bursts of 2).
- ``http5xx``: ``n % 9 == 5`` gets 502 (an HTML proxy page), ``n % 9 == 6`` gets 503 (JSON).
- ``slow``: requests with ``n % 3 == 1`` wait 0.5, 1.0, 2.0 s in turn, at most 3.5 s per server.

Record-level faults are applied when a page is rendered (see :mod:`ingestion.replay.query`):
``malformed``, ``duplicates``, ``drift_new_column``, ``drift_type_change``.
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
)
RETRY_AFTER_SECONDS = 1
SLOW_DELAYS = (0.5, 1.0, 2.0)
SLOW_BUDGET_SECONDS = 3.5
DUPLICATES_PER_PAGE = 2


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


@dataclass
class FaultState:
    """Per-server fault counters (thread-safe); ``stats()`` is served at ``/__replay/stats``."""

    faults: frozenset[str]
    requests: int = 0
    served_429: int = 0
    served_5xx: int = 0
    slow_requests: int = 0
    slow_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self) -> Outcome:
        """Count a ``/resource`` request and decide its injected fault, if any."""
        with self._lock:
            self.requests += 1
            n = self.requests
            out = Outcome()
            if "slow" in self.faults and n % 3 == 1:
                delay = SLOW_DELAYS[(n // 3) % len(SLOW_DELAYS)]
                if self.slow_seconds + delay <= SLOW_BUDGET_SECONDS:
                    self.slow_requests += 1
                    self.slow_seconds += delay
                    out.delay = delay
            if "http429" in self.faults and n % 8 in (2, 3):
                self.served_429 += 1
                out.status = 429
                out.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                out.body = (
                    b'{"message":"Too many requests, please slow down","errorCode":'
                    b'"too_many_requests","data":{}}'
                )
            elif "http5xx" in self.faults and n % 9 in (5, 6):
                self.served_5xx += 1
                if n % 9 == 5:
                    out.status = 502
                    out.body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    out.content_type = "text/html"
                else:
                    out.status = 503
                    out.body = (
                        b'{"message":"Service temporarily unavailable","errorCode":'
                        b'"service_unavailable","data":{}}'
                    )
            return out

    def stats(self) -> dict[str, object]:
        """Counters for tests and operators."""
        with self._lock:
            return {
                "faults": sorted(self.faults),
                "requests": self.requests,
                "served_429": self.served_429,
                "served_5xx": self.served_5xx,
                "slow_requests": self.slow_requests,
                "slow_seconds": self.slow_seconds,
            }
