"""Issue 12.11 / 13 / 14 on the ML side: the mart's completeness flag, tiny histories,
geography levels from the data, horizon buckets, per-bucket selection and calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_mart
from ml_synth import daily_neighbourhood_counts, fct_incident_counts

from engines.duckdb import DuckDBEngine
from ml.config import ForecastConfig
from ml.engine import forecast_panel
from ml.panel import build_panel
from ml.pipeline import forecast_all, run_pipeline
from ml.registry import load_runs
from ml.warehouse import open_warehouse


def flagged(counts: pd.DataFrame, first: str, cutoff: str) -> pd.DataFrame:
    """The mart's rule: complete iff the period lies wholly within [first, cutoff]."""
    start = pd.to_datetime(counts["period_start"])
    end = np.select(
        [counts["freq"] == "daily", counts["freq"] == "weekly"],
        [start, start + pd.Timedelta(days=6)],
        start + pd.offsets.MonthEnd(0),
    )
    complete = (start >= pd.Timestamp(first)) & (pd.to_datetime(end) <= pd.Timestamp(cutoff))
    return counts.assign(is_complete_period=complete.to_numpy())


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    """3 years of a 6-neighbourhood city starting on a Wednesday (partial first week).

    Levels: city (1), police_district (2), council_district (3), neighborhood (6).
    """
    daily = daily_neighbourhood_counts(start="2021-03-03", end="2024-03-20", n_neighbourhoods=6)
    nbs = [f"NB{k:02d}" for k in range(6)]
    police = {nb: f"District {'AB'[i % 2]}" for i, nb in enumerate(nbs)}
    council = {nb: ["NORTH", "SOUTH", "EAST"][i % 3] for i, nb in enumerate(nbs)}
    return fct_incident_counts(daily, police=police, council=council)


def test_training_span_is_the_marts_complete_periods(small: pd.DataFrame) -> None:
    """Leading partial week/month and the reporting-lag tail are not trained on (12.11)."""
    counts = flagged(small, "2021-03-03", "2024-03-17")  # last 3 days within the lag
    fast = ForecastConfig(backtest_origins=1, max_iter=10, peers={})
    results = forecast_all(counts, fast, freqs=("daily", "weekly", "monthly"))
    assert results["daily"].train_end == pd.Timestamp("2024-03-17")
    # Horizon 1 is the first period after the last complete one (a nowcast of a partly
    # observed period), and training stops before it.
    starts = {f: pd.Timestamp(r.forecasts["period_start"].min()) for f, r in results.items()}
    assert starts == {
        "daily": pd.Timestamp("2024-03-18"),
        "weekly": pd.Timestamp("2024-03-18"),
        "monthly": pd.Timestamp("2024-03-01"),
    }
    weekly = build_panel(counts, "weekly")
    assert weekly.periods[0] == pd.Timestamp("2021-03-08")  # not the partial 2021-03-01 week
    assert build_panel(counts, "monthly").periods[0] == pd.Timestamp("2021-04-01")


def test_tiny_history_forecasts_what_it_can(tmp_path: Path, small: pd.DataFrame) -> None:
    """A 3-day history: daily forecasts from a simple method, no weekly/monthly, said so."""
    three = small[pd.to_datetime(small["period_start"]) >= pd.Timestamp("2024-03-18")]
    counts = flagged(three, "2024-03-18", "2024-03-20")
    path = write_mart(tmp_path / "tiny.duckdb", counts)
    result = run_pipeline(open_warehouse(DuckDBEngine(path)))
    assert result.forecasts == 12 * 28  # every daily series (12 over 4 levels), 28 days
    assert any(n.startswith("monthly: no complete period") for n in result.notes)
    assert any(n.startswith("weekly: no complete period") for n in result.notes)
    assert any("too few to backtest" in n for n in result.notes)
    run = load_runs(open_warehouse(DuckDBEngine(path))).iloc[0]
    assert json.loads(run["metrics"])["monthly"]["method"] == "none"


def test_geography_levels_come_from_the_data(small: pd.DataFrame) -> None:
    """Chicago's levels (13): city first, then coarse to fine, every level forecast."""
    rename = {"police_district": "district", "council_district": "ward", "neighborhood": "beat"}
    counts = small.assign(geo_level=small["geo_level"].replace(rename))
    panel = build_panel(counts, "weekly")
    order = list(dict.fromkeys(panel.keys["geo_level"]))
    assert order == ["city", "district", "ward", "beat"]  # 1, 2, 3, 6 geos: coarse to fine
    result = forecast_panel(panel, ForecastConfig(max_iter=10, peers={}), 12)
    assert set(result.forecasts["geo_level"]) == {"city", "district", "ward", "beat"}
    assert set(result.served) == {"city", "district", "ward", "beat"}


def test_horizon_buckets() -> None:
    from ml.config import bucket_of

    assert [bucket_of("daily", h) for h in (1, 7, 8, 28, 29, 92, 93, 366)] == [
        "1-7d", "1-7d", "2-4w", "2-4w", "1-3m", "1-3m", "3-12m", "3-12m"
    ]  # fmt: skip
    assert [bucket_of("weekly", h) for h in (1, 2, 4, 5, 13, 14, 53)] == [
        "1-7d", "2-4w", "2-4w", "1-3m", "1-3m", "3-12m", "3-12m"
    ]  # fmt: skip
    assert [bucket_of("monthly", h) for h in (1, 3, 4, 12)] == ["1-3m", "1-3m", "3-12m", "3-12m"]


@pytest.fixture(scope="module")
def year_ahead(small: pd.DataFrame):
    """A 52-week request on the small city (peers on the city level only)."""
    config = ForecastConfig(horizons={"weekly": 52}, peer_max_series=1)
    return forecast_panel(build_panel(small, "weekly"), config, 52)


def test_year_ahead_is_judged_on_year_ahead_origins(year_ahead) -> None:
    """Every backtest bucket up to 3-12 months is scored, and the served method is recorded
    per level x bucket (14: horizon-honest backtests, per-bucket selection)."""
    summary = year_ahead.summary()
    assert list(summary["buckets"]) == ["1-7d", "2-4w", "1-3m", "3-12m"]
    assert summary["buckets"]["3-12m"]["n"] >= 12 * 39  # every series, h 14..52, >= 1 origin
    for level, cells in summary["serving"].items():
        assert set(cells) == {"1-7d", "2-4w", "1-3m", "3-12m"}, level
    # The peer is a candidate where it was fitted (the city), absent elsewhere.
    far = summary["buckets"]["3-12m"]
    assert "mae_auto_theta" in far["levels"]["city"]
    assert (
        "mae_auto_theta" not in far["levels"]["beat" if "beat" in far["levels"] else "neighborhood"]
    )
    assert far["levels"]["city"]["method"] == summary["serving"]["city"]["3-12m"]
    perf = year_ahead.performance
    assert set(perf.loc[perf["method"] == "auto_theta", "geo_level"]) == {"city"}
    assert perf.loc[perf["is_selected"], "method"].unique().tolist() == ["blotter"]


def test_intervals_are_calibrated_per_bucket() -> None:
    """Far-horizon errors 3x the near ones: each bucket gets its own width, and each
    covers ~80 % of its own errors (one pooled table would be too wide near, too narrow far)."""
    from ml.intervals import apply_rows, calibrate_buckets

    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "origin": np.repeat([1, 2], n),
            "geo_level": "city",
            "bucket": np.tile(np.repeat(["1-7d", "3-12m"], n // 2), 2),
            "yhat": 100.0,
        }
    )
    noise = np.where(frame["bucket"] == "1-7d", 10.0, 30.0)
    frame["y"] = 100.0 + rng.normal(0, 1, len(frame)) * noise
    tables = calibrate_buckets(frame)
    bands = apply_rows(
        frame["yhat"].to_numpy(), frame["geo_level"].to_numpy(), frame["bucket"].to_numpy(), tables
    )
    inside = (frame["y"] >= bands["yhat_lower_80"]) & (frame["y"] <= bands["yhat_upper_80"])
    width = bands["yhat_upper_80"] - bands["yhat_lower_80"]
    for bucket, factor in (("1-7d", 1), ("3-12m", 3)):
        mask = frame["bucket"] == bucket
        assert 0.75 <= inside[mask].mean() <= 0.85, bucket
        assert abs(width[mask].mean() / (2 * 1.2816 * 10 * factor) - 1) < 0.2, bucket
