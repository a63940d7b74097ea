"""Session 42 (p42): an operator's source-profile edit that makes old rows bad stops the daily run.

Staging's record-key tests check, on a daily build, only the loads int_incidents_deduplicated
has not merged as they are (``__unreconciled_loads__``): raw rows never change after their load.
But staging reads raw through the landed source profile, so an edit of the profile rewrites what
old rows look like without changing any load's row count. Here the operator maps the record key
to the police district (thousands of duplicates among the old rows) and runs the same day again:
the source brings nothing new, so before the fix no load was checked, every test passed and the
run published. The run must stop instead (the build basis, which holds the landed profile,
differs from the published one: every row is checked) and the published tables stay as they were.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from test_w32_catch_up import START, Life, mp  # noqa: F401

from engines.duckdb.colours import live_prefixes
from ingestion.profiles import loader

DAY = "2024-06-10"


def published(path: Path) -> tuple[dict[str, str], int, int]:
    """(live colours, published incidents, distinct keys in the live staging view)."""
    with duckdb.connect(str(path), read_only=True) as con:
        live = live_prefixes(con)
        marts, staging = live["marts"] + "marts", live["staging"] + "staging"
        [(incidents,)] = con.execute(f"select count(*) from {marts}.fct_incidents").fetchall()
        [(keys,)] = con.execute(
            f"select count(distinct record_key) from {staging}.stg_socrata__incidents"
        ).fetchall()
    return live, incidents, keys


def raw_loads(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        [(loads,)] = con.execute("select count(distinct _dlt_load_id) from raw.incidents").fetchall()
    return loads


def edited_profiles(base: Path) -> Path:
    """A copy of the shipped profiles whose demo city keys its records by police district."""
    folder = base / "profiles"
    shutil.copytree(loader.PROFILE_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__*"))
    demo = folder / f"{loader.DEMO_PROFILE}.yml"
    text = demo.read_text()
    assert "  record_key: [case_number]\n" in text
    demo.write_text(text.replace("  record_key: [case_number]\n", "  record_key: [police_district]\n"))
    return folder


def test_a_profile_edit_that_breaks_old_rows_stops_the_daily_run(
    tmp_path: Path,
    mp: pytest.MonkeyPatch,  # noqa: F811 - the fixture imported above
) -> None:
    life = Life(tmp_path / "life", mp)
    life.run(DAY)
    before = published(life.path)
    loads = raw_loads(life.path)
    assert before[1] > 1000 and before[2] == before[1]  # one key per incident

    mp.setattr(loader, "PROFILE_DIR", edited_profiles(tmp_path))
    life.run(DAY, ok=False)  # the same day again: the source has nothing new
    # Nothing new landed: only the old rows can have failed the build.
    assert raw_loads(life.path) == loads
    with duckdb.connect(str(life.path), read_only=True) as con:
        [(landed,)] = con.execute("select profile_json from raw.source_profile").fetchall()
    assert '"record_key":["police_district"]' in landed.replace(" ", "")
    # Nothing was published: the same colours, incidents and keys as before the edit.
    assert published(life.path) == before
