"""Issue 16 P2 (w33): a kept colour written by hand after its publish is re-seeded by copy, never
continued.

The operator mistake: a hand ``dbt run --vars '{"schema_prefix": "<kept colour>_"}'`` (or any
SQL write) into the colour the next build continues from leaves its record ``published`` with
the same basis. Two warehouses live the same days through the real CLI (``w32_life``'s ``Life``;
the first two days shared with ``test_w32_catch_up``): ``caught`` with this code, ``copied`` on
the seed-copy path. Between two runs
``caught``'s kept colour is written by a real dbt run (``fct_incidents`` rebuilt with another
grid) and later by SQL (one snapshot version's end moved, one count changed: the row counts
stay the same). After each next run every published relation must equal ``copied``'s, and the
run must say in one log line that it re-seeded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from w32_life import DAYS, START, FirstDays, Life, both, differences, mp, seeded  # noqa: F401

from engines.duckdb.colours import live_prefixes, other
from orchestration import continued, dbt_manifest
from orchestration.dbt_invoke import PROJECT_DIR


def kept_colour(path: Path, schema: str) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return other(live_prefixes(con)[schema])


def hand_dbt_run(life: Life, colour: str) -> None:
    """What an operator types: dbt straight into the kept colour, with a var of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOTTER_", "DBT_"))}
    env.update(BLOTTER_TARGET="dev", BLOTTER_DUCKDB_PATH=str(life.path))
    hand_vars = {"schema_prefix": colour, "data_start": START, "coordinate_grid_decimals": 1}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "dbt.cli.main", "run", "--select", "fct_incidents"),
            *("--full-refresh", "--vars", json.dumps(hand_vars)),
            *("--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)),
            *("--target-path", str(life.base / "hand-target")),
            *("--log-path", str(life.base / "hand-logs")),
        ],
        env=env,
        cwd=life.base,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def reseeded(stderr: str) -> list[str]:
    """The schemas a run said it re-seeded because a kept table changed since its publish."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("{") and "changed since its publish" in line:
            found.append(json.loads(line)["msg"].split(":")[0])
    return found


def test_a_kept_colour_written_by_hand_is_reseeded_and_publishes_what_the_copy_does(
    first_days: FirstDays,
    tmp_path: Path,
    mp: pytest.MonkeyPatch,  # noqa: F811 - the fixture imported above
) -> None:
    # Blue, green (w32_life.first_days, shared with test_w32_catch_up), then blue continued from
    # day 1's published state.
    caught, copied = first_days.lives(tmp_path, mp)
    everything = len(dbt_manifest.CATCH_UP) + 1 + len(continued.ML_LEVEL_KEYS)

    def run_both(day: str) -> tuple[str, str]:
        return both(caught, copied, mp, lambda life: life.run(day))

    run_both(DAYS[2])
    assert differences(caught.path, copied.path) == {}

    # A real dbt run into the kept marts colour, then the next run.
    colour = kept_colour(caught.path, "marts")
    hand_dbt_run(caught, colour)
    mine, theirs = run_both(DAYS[3])
    assert differences(caught.path, copied.path) == {}, DAYS[3]
    assert reseeded(mine) == [f"{colour}marts"]
    # Only marts' continued tables copied again: the other schemas still continue.
    assert seeded(theirs) - everything < seeded(mine) < seeded(theirs)

    # SQL writes that keep every row count: a snapshot version's end, a count.
    snapshots, marts = kept_colour(caught.path, "snapshots"), kept_colour(caught.path, "marts")
    with duckdb.connect(str(caught.path)) as con:
        con.execute(
            f"update {snapshots}snapshots.snap_incidents set dbt_valid_to = dbt_valid_from "
            "where record_key = (select min(record_key) from "
            f"{snapshots}snapshots.snap_incidents where dbt_valid_to is null)"
        )
        con.execute(
            f"update {marts}marts.fct_incident_counts set incidents = incidents + 1 "
            f"where rowid = (select min(rowid) from {marts}marts.fct_incident_counts)"
        )
    mine, theirs = run_both(DAYS[4])
    assert differences(caught.path, copied.path) == {}, DAYS[4]
    assert sorted(reseeded(mine)) == sorted([f"{marts}marts", f"{snapshots}snapshots"])

    # Untouched: the next run continues everything again, silently.
    mine, theirs = run_both(DAYS[5])
    assert reseeded(mine) == [] and seeded(mine) == seeded(theirs) - everything
    assert differences(caught.path, copied.path) == {}, DAYS[5]
