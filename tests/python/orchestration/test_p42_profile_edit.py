"""Session 42 (p42): a source-profile edit that changes old rows stops the daily run.

A daily build checks several data tests on the rows it can have changed only (``__recent_rows__``,
``__recent_incidents__``, ``__unreconciled_loads__``, ``__built_keys__``; macros/test_where.sql):
older rows passed the same tests when they were built. A source-profile edit breaks that premise:
staging reads raw through the landed profile, and the incremental models keep their old rows.
Here the operator adds a geography level to the demo city's profile (the README's "change
geographies"); int_incidents_deduplicated gains its column for the new rows only, so every older
incident has no area row at that level, yet the windowed test that every incident has its areas
looked at recent incidents only, and the run published (old code): UNKNOWN held 1577 of 1789
incidents at the new level, 55 at the police district it copies. Now a build whose basis (code,
vars, key and landed profile, ``ops.colour_contents``) differs from its published colour's checks
every row (all but ``__built_keys__``; staging's record-key tests too): the run stops and the
published tables stay as they were. `blotter rekey` then rebuilds every row with the new level,
forecasts it and publishes, and the daily run goes on from it. A day without an edit keeps the
restriction.

A record-key edit cannot do this: the profile's key must be the record key, and a new key makes
dlt re-merge raw (old loads lose rows, so they no longer reconcile and are checked).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from test_w32_catch_up import Life, mp  # noqa: F401

from engines.duckdb.colours import live_prefixes
from ingestion.profiles import loader

DAYS = ("2024-06-10", "2024-06-11", "2024-06-12")
EVERY_ROW = "its restricted tests check every row"
LEVEL = "\n  - level: sector\n    label: Sector\n    columns: [police_district]\n"


def published(path: Path) -> tuple[dict[str, str], list[tuple]]:
    """The live colours and the published area rows per level."""
    with duckdb.connect(str(path), read_only=True) as con:
        live = live_prefixes(con)
        rows = con.execute(
            f"select geo_level, count(*) from {live['marts']}marts.fct_incident_areas "
            "group by all order by all"
        ).fetchall()
    return live, rows


def failing_tests(stderr: str) -> list[str]:
    """The failing tests the run's dbt build reported (its JSON log line)."""
    for line in stderr.splitlines():
        if line.startswith("{") and '"dbt build: failed' in line:
            return json.loads(line)["failing_tests"]
    return []


def dbt_log(life: Life) -> str:
    return (life.base / "logs" / "dbt.log").read_text()


def staging_unique_check(life: Life) -> str:
    """The rows the last build's unique test on staging's record key read (its compiled SQL)."""
    [compiled] = (life.base / "target" / "compiled").rglob(
        "unique_stg_socrata__incidents_record_key.sql"
    )
    return compiled.read_text()


def with_a_new_level(base: Path) -> Path:
    """A copy of the shipped profiles where the demo city has one geography level more."""
    folder = base / "profiles"
    shutil.copytree(loader.PROFILE_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__*"))
    demo = folder / f"{loader.DEMO_PROFILE}.yml"
    text = demo.read_text()
    assert "\ngeographies:\n" in text
    demo.write_text(text.replace("\ngeographies:\n", "\ngeographies:" + LEVEL, 1))
    return folder


def test_a_profile_edit_that_changes_old_rows_stops_the_daily_run(
    tmp_path: Path,
    mp: pytest.MonkeyPatch,  # noqa: F811 - the fixture imported above
) -> None:
    life = Life(tmp_path / "life", mp)
    life.run(DAYS[0])
    logged = len(dbt_log(life))
    life.run(DAYS[1])  # same code and profile as the published colour: restricted as before
    assert EVERY_ROW not in dbt_log(life)[logged:]
    assert "where (dlt_load_id in ('" in staging_unique_check(life)  # the new load only
    before = published(life.path)
    assert ("police_district", before[1][0][1]) in before[1] and before[1][0][1] > 1000

    mp.setattr(loader, "PROFILE_DIR", with_a_new_level(tmp_path))
    logged = len(dbt_log(life))
    stopped = life.run(DAYS[2], ok=False)
    # Old code published: the new level's areas for the last load's incidents only, and
    # counts that put every older incident in UNKNOWN at that level.
    assert "assert_every_incident_has_its_areas" in failing_tests(stopped)
    assert EVERY_ROW in dbt_log(life)[logged:]
    assert 'stg_socrata__incidents" where true)' in staging_unique_check(life)  # every load
    with duckdb.connect(str(life.path), read_only=True) as con:
        [(landed,)] = con.execute("select profile_json from raw.source_profile").fetchall()
    assert "sector" in [g["level"] for g in json.loads(landed)["geographies"]]
    assert published(life.path) == before  # nothing published

    # `blotter rekey` (a full refresh) rebuilds the old rows with the new level, forecasts it and
    # publishes (before, it did not forecast: assert_forecasts_cover_every_active_geography
    # stopped it, and the daily run stopped every day). The next daily run publishes (it checks
    # every row once more: a full refresh records no basis to continue from).
    life.cli("rekey", "--as-of", DAYS[2])  # raw holds the stopped day's load
    live, areas = published(life.path)
    per_level = dict(areas)
    assert live != before[0] and per_level["sector"] == per_level["police_district"]
    with duckdb.connect(str(life.path), read_only=True) as con:
        unknown = con.execute(
            f"select geo_level, count(*) from {live['marts']}marts.fct_incident_areas "
            "where geo = 'UNKNOWN' group by all"
        ).fetchall()
    assert dict(unknown).get("sector") == dict(unknown).get("police_district")
    life.run("2024-06-13")
    after = published(life.path)
    assert after[0] != live and dict(after[1])["sector"] > per_level["sector"]  # one day more
