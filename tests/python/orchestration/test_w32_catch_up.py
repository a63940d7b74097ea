"""Issue 16 P2 (w32): a build that catches up from the previous live colour publishes exactly
what the seed-copy path publishes.

Two warehouses live the same days through the real CLI and the in-process replay API: ``caught``
with this code (the publish keeps the previous live colour, the next build continues its
incremental nodes from it and brings the snapshot and the ML store level with the live colour by
moving the rows that differ, w33), ``copied`` with ``dbt_manifest.CATCH_UP`` and
``continued.levelled_tables`` empty (every continued table copied from the live colour, as
before w32). Between days the same edits land in both
raws, each in a load of its own: one old incident revised on two consecutive days, and a late
incident in an old period. ``caught`` also has a failed run, and a run SIGKILLed mid-build;
both have a forecast-only command. After every day each published table and view (snapshot and
ML store included) is compared with ``EXCEPT ALL`` both ways; only the columns that name a load
or a run, which differ between any two warehouses, are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from w32_life import DAYS, FirstDays, Life, both, differences, edit_raw, mp, seeded  # noqa: F401

from orchestration import continued, dbt_manifest, steps


def test_catching_up_publishes_what_the_seed_copy_publishes(
    first_days: FirstDays,
    tmp_path: Path,
    mp: pytest.MonkeyPatch,  # noqa: F811 - the fixture imported above
) -> None:
    # The first two days (blue, then green: each seeded by copy, nothing published before) ran
    # once for this module and test_w33_fingerprint (w32_life.first_days): equal after each.
    assert first_days.differences == {day: {} for day in DAYS[:2]}
    caught, copied = first_days.lives(tmp_path, mp)
    # Not copied when continued: the nodes that catch up, the snapshot and the ML store (w33).
    everything = len(dbt_manifest.CATCH_UP) + 1 + len(continued.ML_LEVEL_KEYS)

    def on_both(action: Callable[[Life], Any]) -> tuple[Any, Any]:
        return both(caught, copied, mp, action)

    def same(when: str) -> None:
        assert differences(caught.path, copied.path) == {}, when

    for serial, day in enumerate(DAYS[2:4]):  # an incident revised on two consecutive days
        on_both(lambda life, s=serial: edit_raw(life.path, s))
        mine, theirs = on_both(lambda life, d=day: life.run(d))
        assert seeded(mine) == seeded(theirs) - everything  # continued, not copied
        same(day)

    # A failed run leaves its colour dirty: the next build re-seeds it by copy.
    def broken(ctx):
        raise RuntimeError("w32: the forecast fails")

    with mp.context() as patch:
        patch.setattr(steps, "step_forecast_when_complete", broken)
        caught.run(DAYS[4], ok=False)
    with duckdb.connect(str(caught.path), read_only=True) as con:
        states = {r[0] for r in con.execute("select state from ops.colour_contents").fetchall()}
    assert "building" in states
    mine, theirs = on_both(lambda life: life.run(DAYS[4]))
    assert seeded(mine) == seeded(theirs)
    same(DAYS[4])

    # A forecast-only command republishes marts and ml; the next run continues what it can.
    on_both(lambda life: life.cli("forecast"))
    same("forecast")
    on_both(lambda life: edit_raw(life.path, 2))
    mine, theirs = on_both(lambda life: life.run(DAYS[5]))
    assert seeded(theirs) - everything <= seeded(mine) < seeded(theirs)
    same(DAYS[5])

    # Killed mid-build: that colour is dirty, re-seeded by the rerun.
    caught.killed_mid_build(DAYS[6])
    mine, theirs = on_both(lambda life: life.run(DAYS[6]))
    assert seeded(mine) == seeded(theirs)
    same(DAYS[6])
