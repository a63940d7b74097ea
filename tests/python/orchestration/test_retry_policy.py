"""Issue 15 item 3: steps are retried on a typed ``TransientError`` (tenacity), never on message
text; library exceptions are recognised by their type in one place (``engines.errors``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import requests
from google.api_core import exceptions as gax
from test_errors import hold_warehouse

from engines.errors import (
    SourceUnavailable,
    TransientError,
    WarehouseBusy,
    WarehouseUnreachable,
    as_transient,
)
from orchestration.errors import is_transient, transient_cause
from orchestration.run import RunContext, execute, new_run_id, retry_policy
from orchestration.settings import Settings


def _ctx(tmp_path: Path) -> RunContext:
    day = date(2024, 3, 5)
    settings = Settings(duckdb_path=tmp_path / "w.duckdb")
    return RunContext(run_id=new_run_id(day), as_of=day, target="dev", settings=settings)


def _failing(exc: BaseException, times: int, calls: list[int]):
    def step(ctx: RunContext) -> dict:
        calls.append(1)
        if len(calls) <= times:
            raise exc
        return {"rows_loaded": 7}

    return step


def test_a_transient_error_is_retried_until_it_passes(tmp_path: Path) -> None:
    calls: list[int] = []
    step = _failing(SourceUnavailable("replay API answered 503"), 2, calls)
    summary = execute(_ctx(tmp_path), [("ingest", step)], retries=2, backoff_seconds=0)
    assert summary.succeeded and summary.record.steps["ingest"]["attempts"] == 3
    assert summary.record.rows_loaded == 7


def test_a_value_error_is_not_retried_even_when_its_text_looks_transient(tmp_path: Path) -> None:
    """The old substring match retried this (" 503", "timed out"): a permanent error, retried."""
    calls: list[int] = []
    step = _failing(ValueError("column 'status 503' timed out of range"), 5, calls)
    summary = execute(_ctx(tmp_path), [("ingest", step)], retries=3, backoff_seconds=0)
    assert len(calls) == 1
    assert summary.record.steps["ingest"] | {"seconds": 0} == {
        "status": "failed",
        "attempts": 1,
        "seconds": 0,
        "transient": False,
        "error": "column 'status 503' timed out of range",
    }


def test_retries_stop_after_the_budget_and_the_ledger_says_so(tmp_path: Path) -> None:
    calls: list[int] = []
    outer = RuntimeError("Pipeline execution failed at step=load with exception:")
    outer.__cause__ = WarehouseBusy("Could not set lock on file w.duckdb")
    summary = execute(_ctx(tmp_path), [("ingest", _failing(outer, 9, calls))], 1, 0)
    step = summary.record.steps["ingest"]
    assert len(calls) == 2 and step["attempts"] == 2 and step["transient"] is True
    # The one-line root cause, not dlt's truncated wrapper, with what to do.
    assert step["error"].startswith("WarehouseBusy: Could not set lock on file w.duckdb")
    assert "close it" in step["error"] and "\n" not in step["error"]


def test_the_policy_waits_exponentially_from_the_backoff() -> None:
    policy = retry_policy("ingest", retries=3, backoff_seconds=5)
    waits = []
    for number in (1, 2, 3):
        state = type("State", (), {"attempt_number": number})()
        waits.append(policy.wait(state))  # type: ignore[arg-type]
    assert waits == [5, 10, 20]


class _DltStepFailed(RuntimeError):
    """dlt's PipelineStepFailed keeps the real error in ``.exception``, not in ``__cause__``."""

    def __init__(self, exception: BaseException) -> None:
        super().__init__("Pipeline execution failed at step=extract with exception:")
        self.exception = exception


def _response(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    return response


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (requests.ConnectionError("refused"), SourceUnavailable),
        (requests.ReadTimeout("read timed out"), SourceUnavailable),
        (requests.HTTPError("Server Error", response=_response(503)), SourceUnavailable),
        (requests.HTTPError("Too Many", response=_response(429)), SourceUnavailable),
        (requests.HTTPError("Not Found", response=_response(404)), None),
        (requests.HTTPError("Forbidden 503 in text", response=_response(403)), None),
        (gax.ServiceUnavailable("backend error"), WarehouseUnreachable),
        (gax.InternalServerError("internal"), WarehouseUnreachable),
        (gax.TooManyRequests("rate limit"), WarehouseBusy),
        (gax.BadRequest("Syntax error: 503"), None),
        (ConnectionResetError("connection reset by peer"), TransientError),
        (requests.exceptions.MissingSchema("no scheme: timed out"), None),
        (KeyError("timeout"), None),
    ],
)
def test_library_errors_are_recognised_by_type(exc: BaseException, kind: type | None) -> None:
    typed = as_transient(exc)
    assert (type(typed) if typed else None) is kind
    wrapped = _DltStepFailed(exc)
    assert is_transient(wrapped) is (kind is not None)
    if typed is not None:
        found = transient_cause(wrapped)
        assert isinstance(found, TransientError) and found.__cause__ in (exc, None)


def test_a_real_duckdb_lock_is_busy_but_a_corrupt_file_is_not(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    holder = hold_warehouse(path)
    try:
        with pytest.raises(duckdb.IOException) as locked:
            duckdb.connect(str(path))
    finally:
        holder.kill()
    assert isinstance(as_transient(locked.value), WarehouseBusy)
    torn = tmp_path / "could not set lock" / "torn.duckdb"  # words in a path are not the error
    torn.parent.mkdir()
    torn.write_bytes(bytes(range(256)) * 2048)
    with pytest.raises(duckdb.Error) as corrupt:
        duckdb.connect(str(torn))
    assert as_transient(corrupt.value) is None


def test_an_operator_mistake_is_never_retried_whatever_it_wraps() -> None:
    mistake = type("SourceMismatchError", (RuntimeError,), {})("warehouse holds another source")
    mistake.__cause__ = SourceUnavailable("timed out")
    assert not is_transient(mistake)


def test_ctrl_c_is_never_retried_and_the_ledger_says_interrupted(tmp_path: Path) -> None:
    calls: list[int] = []
    ctx = _ctx(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        execute(ctx, [("ingest", _failing(KeyboardInterrupt(), 9, calls))], 3, 0)
    assert len(calls) == 1
    with duckdb.connect(str(ctx.settings.duckdb_path), read_only=True) as con:
        (error,) = con.execute("select error from ops.run_ledger").fetchone() or (None,)
    assert error == "ingest: interrupted"
