"""The dashboard's data layer and status logic on real DuckDB files (no browser)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard import status
from dashboard.queries import MAX_MAP_POINTS, load_area, load_overview
from dashboard.warehouse import DuckDBReader, WarehouseBusy, WarehouseUnavailable


def test_overview_lists_areas_runs_and_champion(healthy_db: Path) -> None:
    overview = load_overview(DuckDBReader(healthy_db))
    assert overview.notes == []
    assert overview.geos["city"] == ["Buffalo"]
    assert overview.geos["police_district"][-1] == "UNKNOWN"  # the unknown bucket sorts last
    assert overview.last_data_day == datetime.now(UTC).date() - timedelta(days=1)
    assert overview.runs["run_id"].tolist() == ["run-2", "run-1"]
    assert overview.models["model_version"].tolist() == ["hgb-v2"]
    assert "params" not in overview.models.columns  # long JSON stays out of the page


def test_area_view_reads_the_latest_forecast_and_generalised_points(healthy_db: Path) -> None:
    reader = DuckDBReader(healthy_db)
    last_day = load_overview(reader).last_data_day
    view = load_area(reader, "weekly", "police_district", "District B", last_day)
    assert view.notes == []
    assert set(view.forecasts["forecast_run_id"]) == {"run-new"}  # not the older run
    assert len(view.forecasts) == 12
    assert (view.forecasts["yhat_lower_95"] <= view.forecasts["yhat_lower_80"]).all()
    assert view.actuals["period_start"].is_monotonic_increasing
    assert set(view.accuracy["freq"]) == {"weekly"}
    assert set(view.accuracy["geo_level"]) == {"police_district"}
    # Accuracy on actuals: the older run's first 3 weeks met their actuals.
    assert view.live["model_version"].tolist() == ["hgb-v1"]
    assert view.live["periods"].tolist() == [3]
    assert 0 <= view.live["coverage_80"].iloc[0] <= view.live["coverage_95"].iloc[0] <= 1
    assert len(view.points) <= MAX_MAP_POINTS
    assert "Sexual Assault" not in set(view.points["incident_type"])  # no coordinates published
    with duckdb.connect(str(healthy_db), read_only=True) as con:
        recent = con.execute(
            "select count(*) from marts.fct_incidents where police_district = 'District B' "
            "and occurred_date > ? - 30",
            [last_day],
        ).fetchone()[0]
    assert view.types["recent"].sum() == recent
    assert (
        view.points["incidents"].sum()
        + view.types.set_index("incident_type").loc["Sexual Assault", "recent"]
        == recent
    )


def test_area_values_are_bound_not_spliced(healthy_db: Path) -> None:
    view = load_area(DuckDBReader(healthy_db), "daily", "neighborhood", "O'Hara'; drop", None)
    assert view.notes == [] and view.actuals.empty and view.types.empty
    with pytest.raises(ValueError, match="unknown freq"):
        load_area(DuckDBReader(healthy_db), "hourly", "city", "Buffalo", None)


def test_missing_tables_become_notes_not_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    reader = DuckDBReader(empty)
    overview = load_overview(reader)
    view = load_area(reader, "monthly", "city", "Buffalo", None)
    notes = " | ".join(overview.notes + view.notes)
    for table in (
        "fct_forecast_accuracy",
        "fct_incident_counts",
        "run_ledger",
        "model_runs",
        "fct_forecasts",
        "fct_incidents",
        "model_performance",
    ):
        assert table in notes
    assert overview.geos == {} and view.actuals.empty and view.forecasts.empty
    with pytest.raises(WarehouseUnavailable, match="no warehouse at .* run `blotter run`"):
        load_overview(DuckDBReader(tmp_path / "nope.duckdb"))


def test_a_writer_makes_reads_fail_fast_and_reads_never_hold_the_lock(
    healthy_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(healthy_db.read_bytes())
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match="being written by a run"):
            load_overview(DuckDBReader(db))
        assert time.monotonic() - started < 2  # gives up quickly, never queues behind the run
    finally:
        writer.communicate("", timeout=30)
    load_overview(DuckDBReader(db))
    # After a read the file is free again: a run can open it for writing at once.
    duckdb.connect(str(db)).close()


def _runs(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    start = pd.Timestamp("2026-03-02 06:00", tz="UTC")
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "status": state,
                "error": error,
                "started_at": start - pd.Timedelta(days=i),
                "ended_at": start - pd.Timedelta(days=i) + pd.Timedelta(minutes=5),
            }
            for i, (run_id, state, error) in enumerate(rows)
        ]
    )


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("runs", "last_day", "kind", "text"),
    [
        (_runs(("r2", "succeeded", None)), date(2026, 3, 1), "success", "Last run succeeded"),
        (
            _runs(("r2", "failed", "boom\ntrace"), ("r1", "succeeded", None)),
            date(2026, 3, 1),
            "error",
            "Last run failed: r2 at 2026-03-02 06:05 UTC: boom. Showing what the last",
        ),
        (_runs(("r2", "succeeded", None)), date(2026, 2, 20), "warning", "Data is stale"),
        (
            _runs(("r3", "running", None), ("r2", "succeeded", None)),
            date(2026, 3, 1),
            "info",
            "in progress",
        ),
        (pd.DataFrame(), date(2026, 3, 1), "info", "No run recorded"),
        (pd.DataFrame(), None, "warning", "No incident data published yet"),
    ],
)
def test_banner(runs: pd.DataFrame, last_day: date | None, kind: str, text: str) -> None:
    banner = status.banner(runs, last_day, NOW)
    assert banner.kind == kind
    assert text in banner.message


def test_headlines_compare_with_the_same_weekdays_last_year() -> None:
    days = pd.date_range("2025-01-01", "2026-03-01", freq="D")
    daily = pd.DataFrame(
        {"period_start": days, "incidents": [2 if d.year == 2026 else 1 for d in days]}
    )
    ref = status.reference_day(date(2026, 3, 1), date(2026, 3, 5))
    assert ref == date(2026, 3, 1)
    yesterday, week, month = status.headlines(daily, ref)
    assert (yesterday.value, yesterday.last_year, yesterday.delta_pct) == (2, 1, 100.0)
    assert (week.value, week.last_year) == (14, 7)
    assert month.value == 56
    assert status.headlines(daily.iloc[-3:], ref)[1].value is None  # incomplete window
    assert status.reference_day(date(2026, 3, 9), date(2026, 3, 5)) == date(2026, 3, 4)
