"""Backfill, same-day rerun, next-day incremental and full refresh against the replay API.

The cursor is dlt's ``dlt.sources.incremental`` state: it resumes across runs, from the
destination when dlt's working directory is lost.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import dlt
import orjson
import pytest
from duckdb_ingest import ingest_duckdb
from ingest_helpers import query, snapshot

from engines.base import landing_state_dir
from ingestion.pipeline import PIPELINE_NAME, IngestResult
from ingestion.profiles import load_profile
from replay.server import running_replay

DAY = date(2025, 6, 10)
START = date(2025, 5, 20)
REPLAY_START = date(2025, 5, 1)


def resource_state(path: Path) -> dict:
    """dlt's state of the ``incidents`` resource of the warehouse file ``path``."""
    pipeline = dlt.attach(PIPELINE_NAME, pipelines_dir=str(landing_state_dir(path)))
    return pipeline.state["sources"]["socrata"]["resources"]["incidents"]


@pytest.fixture(scope="module")
def history(
    tmp_path_factory,
) -> tuple[Path, dict[str, IngestResult], dict[str, dict], dict[str, dict]]:
    path = tmp_path_factory.mktemp("incremental") / "blotter.duckdb"
    results, snaps, states = {}, {}, {}

    def run(name: str, as_of: date, **options) -> None:
        with running_replay(as_of=as_of, start=REPLAY_START) as url:
            results[name] = ingest_duckdb(url, path, START, show_progress=False, **options)
        snaps[name] = snapshot(path)
        states[name] = resource_state(path)

    run("backfill", DAY)
    run("rerun", DAY)
    run("next_day", DAY + timedelta(days=1))
    run("full_refresh", DAY + timedelta(days=1), full_refresh=True)
    return path, results, snaps, states


def test_every_run_accounts_for_every_fetched_row(history):
    _, results, _, _ = history
    for name, result in results.items():
        assert result.fetched == result.loaded + result.rejected, name
        assert result.rejected == 0, name  # no faults injected


def test_backfill_lands_the_window_with_lineage(history):
    path, results, snaps, _ = history
    backfill = results["backfill"]
    assert backfill.fetched > 100 and backfill.raw_rows == backfill.loaded
    assert len(snaps["backfill"]) == backfill.loaded
    assert {load for _, load in snaps["backfill"].values()} == {backfill.load_id}
    oldest, nulls = query(
        path, "select min(incident_datetime), count(*) - count(_dlt_id) from raw.incidents"
    )[0]
    assert oldest >= START.isoformat() and nulls == 0


def test_landed_rows_keep_api_names_and_system_fields(history):
    path, _, _, _ = history
    columns = {name for (name,) in query(path, "select column_name from (describe raw.incidents)")}
    assert {"case_number", "incident_datetime", "location", "neighborhood"} <= columns
    assert {"socrata_id", "socrata_created_at", "socrata_updated_at"} <= columns
    (location,) = query(path, "select location from raw.incidents where location is not null")[0]
    assert orjson.loads(location)["type"] == "Point"
    types = {t for (t,) in query(path, "select column_type from (describe raw.incidents)")}
    assert types == {"VARCHAR"}


def test_same_day_rerun_adds_nothing(history):
    _, results, snaps, _ = history
    assert results["rerun"].raw_rows == results["backfill"].raw_rows
    assert snaps["rerun"].keys() == snaps["backfill"].keys()
    # only the look-back window is read again, not the whole history
    assert results["rerun"].fetched < results["backfill"].fetched


def test_next_day_merges_new_and_updated_rows_without_duplicate_keys(history):
    path, results, snaps, _ = history
    before, after = snaps["rerun"], snaps["next_day"]
    assert len(after) > len(before)
    updated = [k for k in before if after[k][0] != before[k][0]]
    assert updated, "the replay API revises some records days later"
    assert all(after[k][1] == results["next_day"].load_id for k in updated)
    total, distinct = query(
        path, "select count(*), count(distinct case_number) from raw.incidents"
    )[0]
    assert total == distinct


def test_incremental_state_equals_a_full_reload(history):
    _, results, snaps, _ = history
    refreshed = results["full_refresh"]
    assert refreshed.full_refresh and refreshed.raw_rows == refreshed.loaded
    assert {k: v[0] for k, v in snaps["full_refresh"].items()} == {
        k: v[0] for k, v in snaps["next_day"].items()
    }


def test_the_cursor_is_dlts_incremental_state_and_resumes_across_runs(history):
    _, results, _, states = history
    cursors = {name: state["incremental"]["socrata_updated_at"] for name, state in states.items()}
    assert cursors["backfill"]["last_value"] == results["backfill"].cursor
    # An unchanged source: the rerun reads only the look-back window and moves nothing.
    assert cursors["rerun"]["last_value"] == results["backfill"].cursor
    assert results["rerun"].raw_rows == results["backfill"].raw_rows
    assert cursors["next_day"]["last_value"] == results["next_day"].cursor
    assert results["next_day"].cursor > results["backfill"].cursor
    assert "cursors" not in states["next_day"] and "last_cursor" not in states["next_day"]


def test_the_cursor_survives_losing_dlts_working_directory(tmp_path):
    path = tmp_path / "blotter.duckdb"
    with running_replay(as_of=DAY, start=REPLAY_START) as url:
        backfill = ingest_duckdb(url, path, START, show_progress=False)
        shutil.rmtree(landing_state_dir(path))  # dlt restores its state from the destination
        rerun = ingest_duckdb(url, path, START, show_progress=False)
    assert rerun.cursor == backfill.cursor and rerun.raw_rows == backfill.raw_rows
    assert 0 < rerun.fetched < backfill.fetched / 3  # the look-back window, not the backfill


def test_as_of_bounds_the_cursor_at_the_end_of_the_local_day(tmp_path, history):
    _, _, snaps, _ = history
    path = tmp_path / "blotter.duckdb"
    # A server that is already a day ahead, asked "as of" DAY: nothing known only later lands.
    with running_replay(as_of=DAY + timedelta(days=1), start=REPLAY_START) as url:
        result = ingest_duckdb(url, path, START, as_of=DAY, show_progress=False)
    landed = snapshot(path)
    assert result.fetched == result.loaded and landed
    assert max(updated for updated, _ in landed.values()) < "2025-06-11T04:00:00"  # EDT midnight
    backfill = {k: v[0] for k, v in snaps["backfill"].items()}
    assert {k: v[0] for k, v in landed.items()}.items() <= backfill.items()


def test_as_of_defaults_to_today_in_the_profiles_timezone(tmp_path):
    profile = load_profile("buffalo")
    today = profile.today()
    with running_replay(start=today - timedelta(days=2)) as url:  # a portal that is live now
        result = ingest_duckdb(
            url, tmp_path / "w.duckdb", today - timedelta(days=2), show_progress=False
        )
    assert result.as_of == today.isoformat()
    bound = profile.end_of_day_utc(today).isoformat()
    assert result.loaded > 0 and result.cursor < bound  # never past the end of today
