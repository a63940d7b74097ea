"""Ingestion errors: one safe line each, with the exit code the CLI should use.

Operator mistakes (another source in this warehouse, a start date that contradicts the as-of
or the warehouse's backfill) exit 2; a source or load that fails exits 1.

Environment variables read here: none.
"""

from __future__ import annotations

_MAX_CAUSE = 400


class IngestError(RuntimeError):
    """Ingestion failed; the message is one line, safe to print (never contains the token).

    Attributes:
        exit_code: 2 for an operator mistake or refusal, 1 for a failed source or load.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class SourceMismatchError(IngestError):
    """The warehouse already holds another source; one warehouse holds one source."""

    exit_code = 2


class StartDateError(IngestError):
    """A date the operator gave contradicts the as-of, today or the warehouse's backfill."""

    exit_code = 2


class KeyChangedError(IngestError):
    """The profile's merge key is not the one the warehouse's raw landing was merged on."""

    exit_code = 2


class NoIncidentsError(IngestError):
    """A first load found no incidents in its window: nothing downstream can run."""


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: ``__cause__``/``__context__`` and dlt's ``.exception``."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in out):
        out.append(current)
        wrapped = getattr(current, "exception", None)  # dlt's PipelineStepFailed
        if isinstance(wrapped, BaseException):
            current = wrapped
        else:
            current = current.__cause__ or current.__context__
    return out


def find_own(exc: BaseException, *kinds: type[BaseException]) -> BaseException | None:
    """The first exception of ``kinds`` (our one-line errors) inside dlt's wrapping."""
    return next((e for e in _chain(exc) if isinstance(e, kinds)), None)


def root_cause(exc: BaseException) -> str:
    """One line naming the innermost cause of ``exc`` (dlt wraps steps, jobs and connections).

    dlt's own messages often end where the interesting part begins ("Pipeline execution failed
    at step=sync with exception:" followed by nothing on that line), so the innermost
    exception with a message wins, flattened to one line.
    """
    for inner in reversed(_chain(exc)):
        text = " ".join(str(inner).split())
        if text:
            name = type(inner).__name__
            line = text if name.lower() in text.lower()[:40] else f"{name}: {text}"
            return line[:_MAX_CAUSE]
    return type(exc).__name__
