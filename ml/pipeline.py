"""train -> backtest -> register -> forecast -> write, for every frequency and geography.

Writes ``<ml_schema>.forecasts``, ``.model_performance`` and ``.model_runs``. Writes are
delete-then-insert by run id, so re-writing a run is idempotent; the registry decides which
run serves (``fct_forecasts`` = the champion's run).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

import pandas as pd

from ml.config import FREQS, ForecastConfig
from ml.engine import FreqResult, forecast_panel
from ml.panel import build_panel
from ml.registry import champion_of, decide, load_runs, register, score
from ml.warehouse import TABLES, Warehouse


class PipelineError(RuntimeError):
    """The forecast pipeline cannot run (one-line message)."""


class NothingToForecastError(PipelineError):
    """No frequency has a complete period yet, so there is nothing to train on.

    A new warehouse whose history is shorter than the reporting-lag allowance (e.g. three days
    of a city's records) is in this state until its first day is complete. The daily run
    publishes the counts without forecasts; an explicit ``blotter forecast`` fails with it.
    """


@dataclass
class PipelineResult:
    """Summary of one run (printed by ``blotter forecast --json``)."""

    run_id: str
    model_version: str
    status: str
    reason: str
    data_cutoff: str | None
    forecasts: int
    seconds: float
    metrics: dict[str, dict[str, object]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def forecast_all(
    counts: pd.DataFrame,
    config: ForecastConfig,
    freqs: tuple[str, ...] = FREQS,
    progress: Callable[[str], None] | None = None,
    notes: list[str] | None = None,
) -> dict[str, FreqResult]:
    """Backtest and forecast each frequency that has complete periods (pure function).

    Only periods the mart flags complete are used (``build_panel``); a frequency without any
    (e.g. monthly on a 3-day history) is skipped and said so in ``notes``.
    """
    results = {}
    notes = notes if notes is not None else []
    for freq in freqs:
        panel = build_panel(counts, freq)
        if panel.n_series == 0 or panel.n_periods == 0:
            notes.append(f"{freq}: no complete period yet, no {freq} forecasts")
            if progress:
                progress(notes[-1])
            continue
        started = time.perf_counter()
        results[freq] = forecast_panel(panel, config, config.horizon(freq))
        notes.extend(results[freq].notes)
        if progress:
            summary = results[freq].summary()
            for note in results[freq].notes:
                progress(note)
            progress(
                f"{freq}: {panel.n_series} series x {panel.n_periods} periods, "
                f"method {summary['method']}, MASE {summary.get('mase')}, "
                f"{time.perf_counter() - started:.1f}s"
            )
    return results


def _stamp(frame: pd.DataFrame, run_id: str, version: str, now: datetime) -> pd.DataFrame:
    return frame.assign(forecast_run_id=run_id, model_version=version, created_at=now)


def run_pipeline(
    warehouse: Warehouse,
    config: ForecastConfig | None = None,
    marts_schema: str = "marts",
    ml_schema: str = "ml",
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    as_of: date | None = None,
) -> PipelineResult:
    """Read counts, forecast every series, register the run and write the ML tables.

    Args:
        warehouse: Where to read and write (``ml.warehouse.open_warehouse(engine)``).
        config: Model configuration (defaults: 28 days / 12 weeks / 6 months).
        marts_schema: Schema of fct_incident_counts (``audit_marts`` during write-audit-publish).
        ml_schema: Schema of the ML tables (``audit_ml`` during write-audit-publish).
        now: Timestamp of the run (created_at / trained_at); default: the current UTC time.
        progress: Callback receiving one line per frequency.
        as_of: Accepted for the orchestration signature; the marts are already cut at as_of
            and the forecasts start after their last complete period.

    Returns:
        The run summary (status = the registry decision).
    """
    del as_of  # the data, not the clock, defines the forecast origin
    started = time.perf_counter()
    config = config or ForecastConfig()
    now = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    counts = warehouse.read_counts(marts_schema)
    notes: list[str] = []
    results = forecast_all(counts, config, progress=progress, notes=notes)
    if not results:
        raise NothingToForecastError(
            f"{marts_schema}.fct_incident_counts has no complete period yet (the history is "
            "shorter than the reporting-lag allowance), so there is nothing to train on"
        )
    metrics = {freq: r.summary() for freq, r in results.items()}
    for freq in FREQS:  # the registry shows what was not forecast, and why
        if freq not in metrics:
            metrics[freq] = {"method": "none", "notes": [n for n in notes if n.startswith(freq)]}
    runs = load_runs(warehouse, ml_schema)
    champion = champion_of(runs)
    champion_score = None
    if champion is not None:
        if champion["model_version"] == config.model_version:
            champion_score = score(metrics)  # same config on the same data: identical backtest
        else:
            if progress:
                progress(f"re-backtesting champion {champion['model_version']} on the same data")
            old = ForecastConfig.from_params(json.loads(champion["params"]))
            champion_score = score({f: r.summary() for f, r in forecast_all(counts, old).items()})
    decision = decide(metrics, config, champion, champion_score)

    run_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    version = config.model_version
    forecasts = pd.concat([r.forecasts for r in results.values()], ignore_index=True)
    forecasts = _stamp(forecasts, run_id, version, now)
    forecasts["period_start"] = pd.to_datetime(forecasts["period_start"]).dt.date
    warehouse.replace_rows(
        forecasts[list(TABLES["forecasts"])], ml_schema, "forecasts", ["forecast_run_id"]
    )
    perf = [
        r.performance.assign(freq=f, backtest_origins=r.backtest_origins)
        for f, r in results.items()
        if not r.performance.empty
    ]
    if perf:
        performance = _stamp(pd.concat(perf, ignore_index=True), run_id, version, now)
        warehouse.replace_rows(
            performance[list(TABLES["model_performance"])],
            ml_schema,
            "model_performance",
            ["forecast_run_id"],
        )
    ends = [r.train_end for r in results.values() if r.train_end is not None]
    cutoff = max(ends).date() if ends else None
    run = {
        "run_id": run_id,
        "model_version": version,
        "trained_at": now,
        "data_cutoff": cutoff,
        "params": json.dumps(config.to_params(), sort_keys=True),
        "metrics": json.dumps(metrics, sort_keys=True),
        "score": score(metrics),
    }
    register(warehouse, ml_schema, run, decision)
    return PipelineResult(
        run_id,
        version,
        decision.status,
        decision.reason,
        cutoff.isoformat() if cutoff else None,
        len(forecasts),
        round(time.perf_counter() - started, 2),
        metrics,
        notes,
    )
