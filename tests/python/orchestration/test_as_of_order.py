"""A run may not go back before the last published as-of (operator mistake: a wrong date).

The published marts already hold what was landed through that day. A run cut earlier used to
fetch, build and then fail on the completeness tests with exit 1 and a list of test names; it is
now refused up front, exit 2, with one line naming the days that work, and nothing is fetched.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration import ledger
from orchestration.cli import app
from orchestration.dates import check_not_before_published
from orchestration.errors import OperatorError

PUBLISHED = date(2024, 6, 11)


@pytest.fixture
def published_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real warehouse file whose ledger holds one run that published ``PUBLISHED``."""
    path = tmp_path / "blotter.duckdb"
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in [k for k in os.environ if k.startswith("BLOTTER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(path))
    monkeypatch.setenv("BLOTTER_START_DATE", "2024-05-01")
    ledger.record(
        path,
        ledger.RunRecord(
            run_id="20240611T060000Z-2024-06-11-aaaaaa",
            as_of=PUBLISHED,
            target="dev",
            status="succeeded",
            steps={"publish": {"status": "succeeded", "attempts": 1, "seconds": 1.0}},
        ),
    )
    return path


def _schemas(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}


@pytest.mark.parametrize("command", ["run", "rekey"])
def test_an_as_of_before_the_published_one_is_refused(published_warehouse: Path, command) -> None:
    before = _schemas(published_warehouse)
    result = CliRunner().invoke(app, [command, "--as-of", "2024-06-10"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "2024-06-10" in line]
    assert lines, result.output
    text = " ".join(result.output.split())
    assert "is before the last published as-of 2024-06-11" in text
    assert "use --as-of 2024-06-11 or later" in text
    # Refused before anything ran: no new ledger row, nothing landed.
    assert len(ledger.recent(published_warehouse)) == 1
    # (The key store's schema is set up under the lock before the check, as for every command.)
    assert _schemas(published_warehouse) - before <= {"restricted"}
    assert "raw" not in _schemas(published_warehouse)


@pytest.mark.parametrize(
    ("day", "published"),
    [(PUBLISHED, PUBLISHED), (date(2024, 6, 12), PUBLISHED), (date(2024, 6, 1), None)],
)
def test_the_same_day_a_later_day_or_a_first_run_is_allowed(day, published) -> None:
    check_not_before_published(day, published)


def test_an_earlier_day_raises_an_operator_error() -> None:
    with pytest.raises(OperatorError, match="before the last published as-of 2024-06-11"):
        check_not_before_published(date(2024, 6, 10), PUBLISHED)
