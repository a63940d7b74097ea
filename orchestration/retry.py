"""The retry policy of one step of a run: only a typed transient failure is tried again.

Environment variables read here: none.
"""

from __future__ import annotations

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from orchestration.errors import describe, is_transient
from orchestration.logs import get_logger

log = get_logger("run")


def retry_policy(name: str, retries: int, backoff_seconds: float) -> Retrying:
    """Tenacity policy of one step: retry a :class:`TransientError` (anywhere in the chain).

    ``retries`` extra attempts, waiting ``backoff_seconds`` and doubling; anything else (a failed
    test, bad data, an operator mistake) is raised at once.
    """

    def announce(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0
        log.warning(
            f"step {name} failed (transient), retrying in {delay:.0f}s",
            extra={
                "step": name,
                "attempt": state.attempt_number,
                "error": describe(exc) if exc else "",
            },
        )

    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=backoff_seconds, exp_base=2),
        before_sleep=announce,
        reraise=True,
    )
