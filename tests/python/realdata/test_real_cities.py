"""Each real city's sample, served by the replay API, goes through ``blotter run`` and is counted.

One daily run per city (without the docs step) on a fresh DuckDB file (module-scoped): the
replay API serves the real portal file under the city's profile, ``BLOTTER_SOURCE`` points at
it and the as-of lies after the sample's last record. The expected numbers are computed here
straight from the file with pandas, independently of the replay API, ingestion and dbt: the
file's own column names, its own timestamp format, and the geography codes normalised by hand
("4.0" and "018" are codes 4 and 18; an empty cell is the UNKNOWN bucket).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from real_samples import REAL_DATA
from typer.testing import CliRunner

from orchestration.cli import app
from replay.server import running_replay

REAL = REAL_DATA


@dataclass(frozen=True)
class City:
    """A real sample and what the test needs to count it, in the file's own terms."""

    file: str
    profile: str
    start: date
    key: str
    occurred: str
    time_format: str
    # Columns whose latest value bounds the as-of (a record changed later is not served).
    times: tuple[str, ...]
    # geo_level -> (file column, whether its values are integer codes)
    levels: dict[str, tuple[str, bool]]
    city_name: str
    # A history shorter than the reporting lag: counts are published without forecasts.
    too_short_to_forecast: bool = False


CITIES = {
    # 200 rows from 2004 to 2019-09 (one 1963 outlier). The backfill starts in May 2019: four
    # and a half months are enough to forecast and keep the forecast step under a second
    # (nine months take ten, mostly statsforecast peers).
    "buffalo_2019": City(
        "buffalo_d6g9-xbgu_2019_layout_sample.csv",
        "buffalo_2019",
        date(2019, 5, 1),
        key="case_number",
        occurred="incident_datetime",
        time_format="%m/%d/%Y %I:%M:%S %p",
        times=("incident_datetime", "created_at", "updated_at"),
        levels={
            "police_district": ("Police Districts", True),
            "council_district": ("Council Districts", True),
        },
        city_name="Buffalo",
    ),
    # Three days in the API's own field names: shorter than the reporting lag, so the run
    # publishes counts without forecasts.
    "chicago": City(
        "chicago_ijzp-q8t2_api_sample_2025-05.csv",
        "chicago",
        date(2025, 5, 1),
        key="id",
        occurred="date",
        time_format="%Y-%m-%dT%H:%M:%S.%f",
        times=("date", "updated_on"),
        levels={
            "district": ("district", True),
            "ward": ("ward", True),
            "community_area": ("community_area", True),
            "beat": ("beat", True),
        },
        city_name="Chicago",
        too_short_to_forecast=True,
    ),
    # The homicides export (portal display names, one row per victim, sparse: many zero days
    # per district), its last 26 weeks.
    "chicago_homicides": City(
        "chicago_ijzp-q8t2_homicides_2001_2023.csv",
        "chicago",
        date(2023, 1, 19),
        key="ID",
        occurred="Date",
        time_format="%m/%d/%Y %I:%M:%S %p",
        times=("Date", "Updated On"),
        levels={
            "district": ("District", True),
            "ward": ("Ward", True),
            "community_area": ("Community Area", True),
            "beat": ("Beat", True),
        },
        city_name="Chicago",
    ),
    # December 2018, every day, portal display names.
    "sf": City(
        "sf_wg3w-h783_2018-12.csv",
        "sf",
        date(2018, 12, 1),
        key="Row ID",
        occurred="Incident Datetime",
        time_format="%Y/%m/%d %I:%M:%S %p",
        times=("Incident Datetime", "Report Datetime"),
        levels={
            "police_district": ("Police District", False),
            "analysis_neighborhood": ("Analysis Neighborhood", False),
            "supervisor_district": ("Supervisor District", True),
        },
        city_name="San Francisco",
    ),
}


def file_frame(city: City) -> pd.DataFrame:
    """The sample as text, with the incident time parsed in the file's own format."""
    frame = pd.read_csv(REAL / city.file, dtype=str, keep_default_na=False, na_values=[""])
    for column in city.times:
        frame[column] = pd.to_datetime(frame[column], format=city.time_format)
    return frame


def as_of_after_last_record(city: City) -> date:
    """The day after the latest incident, report or update time in the file."""
    frame = file_frame(city)
    return max(frame[c].max() for c in city.times).date() + timedelta(days=1)


def expected_area_counts(city: City) -> dict[tuple[str, str], int]:
    """(geo_level, geo) -> incidents, from the file: one per key occurring on or after start."""
    frame = file_frame(city)
    frame = frame[frame[city.occurred] >= pd.Timestamp(city.start)]
    assert frame[city.key].notna().all() and frame[city.key].is_unique
    counts = {("city", city.city_name): len(frame)}
    for level, (column, is_code) in city.levels.items():
        values = frame[column].str.strip()
        if is_code:
            values = values.map(lambda v: str(int(float(v))) if pd.notna(v) else v)
        for geo, n in values.fillna("UNKNOWN").value_counts().items():
            counts[(level, geo)] = int(n)
    return counts


@dataclass
class Published:
    city: City
    path: Path
    as_of: date
    exit_code: int
    output: str
    run: dict[str, Any]


def _query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module", params=sorted(CITIES))
def published(request, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """``blotter run`` once on a fresh warehouse fed by the city's sample (replay API)."""
    city = CITIES[request.param]
    base = tmp_path_factory.mktemp(request.param)
    path = base / "blotter.duckdb"
    as_of = as_of_after_last_record(city)
    runner = CliRunner()
    mp = pytest.MonkeyPatch()
    try:
        mp.chdir(base)  # no stray .env; dlt and dbt files stay in the temp dir
        for name in [k for k in os.environ if k.startswith("BLOTTER_")]:
            mp.delenv(name)
        mp.setenv("DBT_TARGET_PATH", str(base / "target"))
        mp.setenv("DBT_LOG_PATH", str(base / "logs"))
        mp.setenv("BLOTTER_DUCKDB_PATH", str(path))
        mp.setenv("BLOTTER_START_DATE", city.start.isoformat())
        with running_replay(from_file=REAL / city.file, profile=city.profile) as source:
            mp.setenv("BLOTTER_SOURCE", source)
            # Nothing here reads the docs site (the docs step is ~15 % of a small run):
            # test_end_to_end.py runs and checks it (its catalog holds no key).
            result = runner.invoke(
                app, ["run", "--as-of", as_of.isoformat(), "--no-docs", "--retries", "0"]
            )
        listed = runner.invoke(app, ["runs", "--json"])
    finally:
        mp.undo()
    runs = json.loads(listed.stdout) if listed.exit_code == 0 else [{}]
    return Published(city, path, as_of, result.exit_code, result.output, runs[0])


def test_the_daily_run_succeeds_and_accounts_for_every_record(published: Published) -> None:
    assert published.exit_code == 0, published.output[-3000:]
    run = published.run
    assert run["status"] == "succeeded" and run["as_of"] == published.as_of.isoformat()
    assert run["rows_fetched"] == run["rows_loaded"] + run["rows_rejected"]
    expected = expected_area_counts(published.city)
    city_total = expected[("city", published.city.city_name)]
    assert run["rows_loaded"] == city_total and run["rows_rejected"] == 0


def test_published_incidents_per_area_equal_the_file(published: Published) -> None:
    """Every geography level of the profile, the city included, counted exactly."""
    assert published.exit_code == 0, published.output[-3000:]
    expected = expected_area_counts(published.city)
    areas = _query(
        published.path,
        "select geo_level, geo, count(*) from marts.fct_incident_areas group by all",
    )
    assert {(lvl, geo): n for lvl, geo, n in areas} == expected
    daily = _query(
        published.path,
        "select geo_level, geo, sum(incidents) from marts.fct_incident_counts "
        "where freq = 'daily' group by all having sum(incidents) > 0",
    )
    assert {(lvl, geo): int(n) for lvl, geo, n in daily} == expected
    (incidents,) = _query(published.path, "select count(*) from marts.fct_incidents")[0]
    assert incidents == expected[("city", published.city.city_name)]


def test_forecasts_are_published_or_the_ledger_says_why_not(published: Published) -> None:
    """A history shorter than the reporting lag publishes counts and notes the skipped forecast."""
    assert published.exit_code == 0, published.output[-3000:]
    (forecasts,) = _query(published.path, "select count(*) from marts.fct_forecasts")[0]
    skipped = [n for n in published.run["notes"] if n.startswith("forecast: skipped")]
    if published.city.too_short_to_forecast:  # three days: nothing is complete yet
        assert forecasts == 0 and len(skipped) == 1, published.run["notes"]
        assert "no complete period" in skipped[0]
    else:
        assert forecasts > 0 and not skipped, published.run["notes"]
