"""What the page shows whatever area is selected: levels and areas, last day, runs, model.

Geography levels, their order and labels come from ``marts.dim_geography``, which takes them from
the source profile: each city shows the levels its profile declares, under the profile's labels,
with no list of levels in the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dashboard.relations import COUNTS, GEOGRAPHY, MODELS, RUNS, published, safe
from engines.reader import Reader, Session


@dataclass(frozen=True)
class Level:
    """A geography level of the source profile (``order`` 0 is the city)."""

    name: str
    label: str
    order: int


@dataclass
class Overview:
    """What does not depend on the selected area."""

    levels: list[Level] = field(default_factory=list)
    geos: dict[str, list[str]] = field(default_factory=dict)
    last_data_day: date | None = None
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    models: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, str]:
        """Label of each level name."""
        return {level.name: level.label for level in self.levels}

    @property
    def version(self) -> str:
        """Changes whenever a run publishes (or fails): the cache key of area data."""
        if self.runs.empty:
            return f"{self.last_data_day}"
        latest = self.runs.iloc[0]
        return f"{self.last_data_day}|{latest['run_id']}|{latest['status']}"


def load_overview(reader: Reader) -> Overview:
    """Levels and their areas, the last day of data, recent runs and the champion model."""
    out = Overview()
    with reader.session() as db:
        _load_geography(db, out)
        if published(db, out.notes, COUNTS, "no incident counts to show"):
            # The last day with an incident: counts run to the as-of, zero-filled after the
            # last day the source published, so the last row would hide a stale source.
            last = safe(
                db,
                out.notes,
                "last day of data",
                "select max(period_start) as d "
                f"from {db.rel(*COUNTS)} where freq = 'daily' and incidents > 0",
                {},
            )
            if not last.empty and pd.notna(last.d.iloc[0]):
                out.last_data_day = pd.Timestamp(last.d.iloc[0]).date()
        if published(db, out.notes, RUNS, "no run recorded"):
            out.runs = safe(
                db,
                out.notes,
                "run history",
                "select run_id, command, as_of, target, status, started_at, ended_at, "
                "duration_seconds, error "
                f"from {db.rel(*RUNS)} order by started_at desc, run_id desc limit 20",
                {},
            )
        if published(db, out.notes, MODELS, "no model registered"):
            out.models = safe(
                db,
                out.notes,
                "model registry",
                "select distinct forecast_run_id as run_id, model_version, status, trained_at, "
                f"data_cutoff, score from {db.rel(*MODELS)} where is_champion "
                "order by trained_at desc limit 5",
                {},
            )
    out.runs = _without_dead_runs(out.runs, reader)
    return out


def _load_geography(db: Session, out: Overview) -> None:
    """Levels in the profile's order; areas with incidents, each level's UNKNOWN bucket last."""
    if not published(db, out.notes, GEOGRAPHY, "no geography levels to choose from"):
        return
    areas = safe(
        db,
        out.notes,
        "geography levels",
        "select geo_level, geo_level_label, level_order, geo "
        f"from {db.rel(*GEOGRAPHY)} where has_incidents "
        "order by level_order, geo_level, is_unknown_bucket, geo",
        {},
    )
    for (name, label, order), rows in areas.groupby(
        ["geo_level", "geo_level_label", "level_order"], sort=False
    ):
        out.levels.append(Level(str(name), str(label), int(order)))
        out.geos[str(name)] = rows["geo"].astype(str).tolist()


def _without_dead_runs(runs: pd.DataFrame, reader: Reader) -> pd.DataFrame:
    """A ``running`` row while no writer is alive is a killed run: show it abandoned.

    The next ``blotter`` command records that in the ledger; the page need not wait for it.
    A reader that cannot tell (``writer_active()`` is None) leaves the rows as they are.
    """
    if runs.empty or not (runs["status"] == "running").any() or reader.writer_active() is not False:
        return runs
    runs = runs.copy()
    dead = runs["status"] == "running"
    runs.loc[dead, "status"] = "abandoned"
    runs.loc[dead, "error"] = "the run ended without finishing (killed?)"
    return runs
