"""Model registry in ``ml.model_runs``: champion / challenger / rejected / retired.

Every pipeline run registers one row. A challenger is promoted when (a) its MASE is below 1
for each frequency in ``config.required_mase_below_one`` and (b) its score (mean MASE over
frequencies) is at most ``champion_score * (1 + promotion_tolerance)``, where the champion's
score is measured on the same data. Otherwise it is rejected and the champion keeps serving
(``fct_forecasts`` reads the champion's run). The very first run becomes champion even when
the gate fails (something must serve), and says so in ``status_reason``. ``approve`` and
``rollback`` are the human override (blue-green switch).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from ml.config import ForecastConfig
from ml.warehouse import TABLES, Warehouse

STATUSES = ("champion", "challenger", "rejected", "retired")
TABLE = "model_runs"


class RegistryError(RuntimeError):
    """A registry operation is not possible (one-line message)."""


@dataclass(frozen=True)
class Decision:
    """Outcome of comparing a challenger with the champion."""

    status: str
    reason: str


def score(metrics: Mapping[str, Mapping[str, Any]]) -> float:
    """Mean selected-method MASE over the frequencies that were backtested (NaN if none)."""
    values = [float(m["mase"]) for m in metrics.values() if m.get("mase") is not None]
    return sum(values) / len(values) if values else math.nan


def gate_failures(metrics: dict[str, dict[str, object]], config: ForecastConfig) -> list[str]:
    """Human-readable reasons the challenger misses the MASE < 1 requirement."""
    failures = []
    for freq in config.required_mase_below_one:
        mase = metrics.get(freq, {}).get("mase")
        if mase is None:
            failures.append(f"{freq} has no backtest")
        elif float(mase) >= 1.0:  # type: ignore[arg-type]
            failures.append(f"{freq} MASE {float(mase):.3f} >= 1")  # type: ignore[arg-type]
    return failures


def decide(
    metrics: dict[str, dict[str, object]],
    config: ForecastConfig,
    champion: pd.Series | None,
    champion_score: float | None,
) -> Decision:
    """Promotion decision for a challenger with backtest ``metrics``."""
    failures = gate_failures(metrics, config)
    if champion is None:
        note = f" (gate not met: {'; '.join(failures)})" if failures else ""
        return Decision("champion", "first run, no champion to beat" + note)
    if failures:
        return Decision("rejected", "; ".join(failures))
    mine = score(metrics)
    theirs = champion_score if champion_score is not None else math.nan
    if math.isnan(theirs) or mine <= theirs * (1 + config.promotion_tolerance):
        return Decision("champion", f"score {mine:.4f} vs champion {theirs:.4f}")
    return Decision(
        "rejected",
        f"score {mine:.4f} worse than champion {theirs:.4f} beyond "
        f"{config.promotion_tolerance:.0%} tolerance",
    )


def load_runs(warehouse: Warehouse, ml_schema: str = "ml") -> pd.DataFrame:
    """All registered runs, newest first."""
    runs = warehouse.read_table(ml_schema, TABLE)
    return runs.sort_values("trained_at", ascending=False, kind="stable").reset_index(drop=True)


def champion_of(runs: pd.DataFrame) -> pd.Series | None:
    """The current champion row, if any."""
    champs = runs[runs["status"] == "champion"]
    return None if champs.empty else champs.iloc[0]


def _write(warehouse: Warehouse, ml_schema: str, rows: pd.DataFrame) -> None:
    warehouse.replace_rows(rows[list(TABLES[TABLE])], ml_schema, TABLE, ["run_id"])


def register(
    warehouse: Warehouse, ml_schema: str, run: dict[str, object], decision: Decision
) -> None:
    """Insert the run with its decided status; a promotion retires the previous champion."""
    now = run["trained_at"]
    runs = load_runs(warehouse, ml_schema)
    row = dict(run, status=decision.status, status_reason=decision.reason, updated_at=now)
    row["promoted_at"] = now if decision.status == "champion" else None
    changed = [row]
    if decision.status == "champion":
        for _, old in runs[runs["status"] == "champion"].iterrows():
            changed.append(
                dict(old, status="retired", status_reason=f"replaced by {run['run_id']}")
                | {"updated_at": now}
            )
    _write(warehouse, ml_schema, pd.DataFrame(changed))


def approve(warehouse: Warehouse, ml_schema: str, run_id: str, now: datetime) -> None:
    """Make ``run_id`` the champion (operator override); the old champion is retired."""
    runs = load_runs(warehouse, ml_schema)
    target = runs[runs["run_id"] == run_id]
    if target.empty:
        raise RegistryError(f"no model run {run_id!r} (see `blotter model list`)")
    if target.iloc[0]["status"] == "champion":
        raise RegistryError(f"run {run_id} is already the champion")
    changed = [
        dict(target.iloc[0], status="champion", status_reason="approved by operator")
        | {"promoted_at": now, "updated_at": now}
    ]
    for _, old in runs[runs["status"] == "champion"].iterrows():
        changed.append(
            dict(old, status="retired", status_reason=f"operator approved {run_id}")
            | {"updated_at": now}
        )
    _write(warehouse, ml_schema, pd.DataFrame(changed))


def rollback(warehouse: Warehouse, ml_schema: str, now: datetime) -> str:
    """Demote the champion and restore the most recently promoted earlier one.

    Returns:
        The run id that is champion again.
    """
    runs = load_runs(warehouse, ml_schema)
    current = champion_of(runs)
    if current is None:
        raise RegistryError("there is no champion to roll back")
    previous = runs[(runs["status"] == "retired") & runs["promoted_at"].notna()]
    previous = previous.sort_values("promoted_at", ascending=False, kind="stable")
    if previous.empty:
        raise RegistryError("no earlier champion to roll back to")
    restored = previous.iloc[0]
    changed = [
        dict(current, status="rejected", status_reason="rolled back by operator")
        | {"updated_at": now},
        dict(
            restored,
            status="champion",
            status_reason=f"restored by rollback of {current['run_id']}",
        )
        | {"promoted_at": now, "updated_at": now},
    ]
    _write(warehouse, ml_schema, pd.DataFrame(changed))
    return str(restored["run_id"])


def metrics_of(row: pd.Series) -> dict[str, dict[str, object]]:
    """The metrics JSON of a registry row."""
    return json.loads(row["metrics"]) if isinstance(row["metrics"], str) else {}
