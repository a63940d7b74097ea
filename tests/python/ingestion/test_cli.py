"""``blotter ingest`` end to end: JSON summary, idempotent reruns, one-line errors.

Operator mistakes (bad settings, another source, contradicting dates) exit 2; a source or
load that fails exits 1.
"""

from __future__ import annotations

import socket
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from orchestration.cli import app

AS_OF = "2025-06-10"


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    (tmp_path / "data").mkdir()  # a missing directory is refused (issue 12 item 10)
    return {"BLOTTER_DUCKDB_PATH": str(tmp_path / "data" / "blotter.duckdb"),
            "BLOTTER_START_DATE": "2025-06-01"}  # fmt: skip


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["ingest", *args], env=env)


def last_json(output: str) -> dict:
    return orjson.loads(output.strip().splitlines()[-1])


def one_error_line(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    # Retry warnings may come first; the error itself is exactly one line, and the last.
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    return errors[0]


def test_demo_ingest_twice_then_next_day(env):
    first = invoke(env, "--source", "demo", "--as-of", AS_OF, "--json")
    assert first.exit_code == 0, first.output
    summary = last_json(first.stdout)
    assert {"fetched", "loaded", "rejected", "load_id", "seconds", "source"} <= summary.keys()
    assert summary["fetched"] == summary["loaded"] + summary["rejected"] > 0
    assert "127.0.0.1" in summary["source"] and summary["as_of"] == AS_OF

    assert summary["new_warehouse"] is True and summary["profile"] == "buffalo"
    # A day without news (only the look-back is read again) is not an error.
    again = last_json(invoke(env, "--source", "demo", "--as-of", AS_OF, "--json").stdout)
    assert again["raw_rows"] == summary["raw_rows"] and again["new_warehouse"] is False

    later = last_json(invoke(env, "--source", "demo", "--as-of", "2025-06-11", "--json").stdout)
    assert later["raw_rows"] > summary["raw_rows"]


def test_malformed_rows_are_counted_and_kept(env):
    # 0.5% of rows are malformed: a ten-week window holds a dozen or so
    faulty = {**env, "BLOTTER_DEMO_FAULTS": "malformed", "BLOTTER_START_DATE": "2025-04-01"}
    result = invoke(faulty, "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    summary = last_json(result.stdout)
    assert summary["rejected"] > 0
    assert summary["fetched"] == summary["loaded"] + summary["rejected"]
    assert "rejected" in result.stderr  # the human summary says so too


@pytest.mark.parametrize(
    ("extra_env", "args", "needle"),
    [
        ({"BLOTTER_SOURCE": "ftp://example.org/data"}, [], "BLOTTER_SOURCE"),
        ({"BLOTTER_SOURSE": "demo"}, [], "unknown setting BLOTTER_SOURSE"),
        ({}, ["--as-of", "2025-02-30"], "--as-of"),
        ({}, ["--source", "http://127.0.0.1:9/resource/abcd-1234.json"], "abcd-1234"),
        ({}, ["--source", "http://127.0.0.1:9/resource/abcd-1234.json"], "ingestion/profiles/"),
        ({}, ["--source", "atlantis"], "create ingestion/profiles/atlantis.yml"),
        ({}, ["--source", "buffalo_2019"], "demo-api --from-file"),
        ({"BLOTTER_START_DATE": "2025-07-01"}, ["--as-of", AS_OF], "is after the as-of"),
        ({}, ["--as-of", "2999-01-01"], "in the future"),
    ],
)
def test_bad_configuration_is_one_clear_line(env, extra_env, args, needle):
    assert needle in one_error_line(invoke({**env, **extra_env}, *args))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_source_is_one_clear_line(env):
    url = f"http://127.0.0.1:{free_port()}/resource/d6g9-xbgu.json"
    result = invoke({**env, "BLOTTER_SOCRATA_APP_TOKEN": "tok-SECRET-123"}, "--source", url)
    line = one_error_line(result, code=1)
    assert "cannot reach" in line and url in line
    assert "tok-SECRET-123" not in result.output


def test_unwritable_warehouse_path_is_one_clear_line(env, tmp_path: Path):
    (tmp_path / "not-a-dir").write_text("")
    bad = {**env, "BLOTTER_DUCKDB_PATH": str(tmp_path / "not-a-dir" / "blotter.duckdb")}
    assert "cannot create" in one_error_line(invoke(bad, "--source", "demo", "--as-of", AS_OF))


def test_a_start_date_after_the_as_of_lands_nothing(env):
    bad = {**env, "BLOTTER_START_DATE": "2025-07-01"}
    assert "is after the as-of 2025-06-10" in one_error_line(invoke(bad, "--as-of", AS_OF))
    assert not Path(env["BLOTTER_DUCKDB_PATH"]).exists()  # nothing was created


def test_changing_the_start_date_needs_a_full_refresh(env):
    assert invoke(env, "--as-of", AS_OF).exit_code == 0
    earlier = {**env, "BLOTTER_START_DATE": "2025-05-25"}
    line = one_error_line(invoke(earlier, "--as-of", AS_OF))
    assert "differs from 2025-06-01" in line and "--full-refresh" in line
    refreshed = invoke(earlier, "--as-of", AS_OF, "--full-refresh", "--json")
    assert refreshed.exit_code == 0, refreshed.output
    assert invoke(earlier, "--as-of", AS_OF).exit_code == 0  # the new start is recorded
