"""Errors as the operator sees them: the root cause in one line, what to do, and the exit code.

dlt and dbt wrap the real failure (a corrupt file, a lock held by another process) in layers
whose own message is often cut off ("Pipeline execution failed at step=sync with exception:").
:func:`describe` walks the chain down to the root cause, so the console line, the run ledger and
the webhook all name what actually happened.

Exit codes (CONTRACTS.md): 0 success; 1 a run or step failed; 2 an operator mistake or a refusal.
Whether a failure is worth a retry is decided by type (:func:`is_transient`, from
``engines.errors``), never by its message.

Environment variables read here: none.
"""

from __future__ import annotations

from engines import warehouse_hint
from engines.errors import TransientError, as_transient

__all__ = [
    "OperatorError",
    "TransientError",
    "cause_chain",
    "describe",
    "exit_code",
    "hint",
    "is_operator_error",
    "is_transient",
    "root_cause",
    "transient_cause",
]

# Ingestion's operator mistakes (CONTRACTS.md E), matched by class name so that this module does
# not import ingestion: a wrong source or start date is the operator's to fix, not a failure.
OPERATOR_ERROR_NAMES = frozenset(
    {"OperatorError", "SourceMismatchError", "StartDateError", "ProfileError", "DestinationError"}
)
MAX_LINE = 600


class OperatorError(RuntimeError):
    """A setting, option or state the operator must change; exit code 2, message is one line."""


def cause_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps, outermost first.

    Follows dlt's ``PipelineStepFailed.exception``, then ``__cause__``, then ``__context__``.
    """
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        wrapped = getattr(current, "exception", None)
        current = (
            wrapped
            if isinstance(wrapped, BaseException)
            else current.__cause__ or current.__context__
        )
    return chain


def _text(exc: BaseException) -> str:
    """The exception's message on one line (whitespace collapsed)."""
    return " ".join(str(exc).split())


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception of the chain that says something (has a message)."""
    chain = cause_chain(exc)
    for candidate in reversed(chain):
        if _text(candidate):
            return candidate
    return chain[-1]


def hint(text: str) -> str | None:
    """What to do about a root cause the operator can act on, or None (the engines word it)."""
    return warehouse_hint(text)


def describe(exc: BaseException) -> str:
    """One line: the root cause (with its type when that helps) and, if known, what to do."""
    root = root_cause(exc)
    root_text = _text(root) or type(root).__name__
    if root is not exc and not isinstance(root, OperatorError):
        # Library errors read better with their type ("IOException: ..."), ours do not need it.
        if not root_text.startswith(type(root).__name__) and ":" not in root_text[:40]:
            root_text = f"{type(root).__name__}: {root_text}"
    top_text = _text(exc)
    line = root_text
    if root is not exc and top_text and not top_text.endswith(":") and root_text not in top_text:
        # Keep the outer context when it is a complete sentence of its own.
        line = f"{top_text.split(' with exception')[0]}: {root_text}"
    if advice := hint(line):
        line = f"{line}; {advice}"
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def is_operator_error(exc: BaseException) -> bool:
    """True when anything in the chain is an operator mistake (see OPERATOR_ERROR_NAMES)."""
    return any(
        getattr(link, "exit_code", None) == 2  # ingestion's errors say so themselves
        or any(cls.__name__ in OPERATOR_ERROR_NAMES for cls in type(link).__mro__)
        for link in cause_chain(exc)
    )


def exit_code(exc: BaseException) -> int:
    """2 for an operator mistake or refusal, 1 for any other failure."""
    return 2 if is_operator_error(exc) else 1


def transient_cause(exc: BaseException) -> TransientError | None:
    """The typed transient error ``exc`` is or wraps (dlt's and dbt's layers walked), or None.

    An operator mistake is never transient: retrying cannot fix a setting.
    """
    if is_operator_error(exc):
        return None
    for link in cause_chain(exc):
        if (typed := as_transient(link)) is not None:
            return typed
    return None


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` or anything it wraps is a :class:`TransientError` (or translates to one,
    see :func:`engines.errors.as_transient`)."""
    return transient_cause(exc) is not None
