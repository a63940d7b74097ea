"""``blotter run --target prod`` on the BigQuery emulator matches ``--target dev`` on DuckDB.

One module-scoped scenario: the same replay data, two days, run through the CLI on both
engines at once (separate processes). Then the published marts and forecasts are compared
(row counts, sums per key, full rows; forecasts within tolerance), and a third BigQuery run
whose raw data holds a duplicated incident must fail and leave every published dataset as it
was.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import pytest
from bq_emulator import Emulator
from bq_parity import Deployment, digest, runs_json, sorted_rows

# 18 months of history for the forecaster. 15 months (14 % fewer incidents) was measured and
# saves nothing: a BigQuery day costs per query, not per row (BENCHMARKS.md, t18).
START = date(2023, 1, 1)
DAY1, DAY2, DAY3 = date(2024, 6, 28), date(2024, 6, 29), date(2024, 6, 30)
PUBLISHED = ("staging", "intermediate", "marts", "snapshots", "ml")
# Differ by construction between two runs: run ids, wall-clock times, texts naming run ids,
# dlt's load ids (the time each engine's load ran).
VOLATILE = {
    "dlt_load_id",
    "forecast_run_id",
    "run_id",
    "created_at",
    "trained_at",
    "promoted_at",
    "updated_at",
    "status_reason",
}
FORECAST_VALUES = ["yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"]


@dataclass
class Scenario:
    duck: Deployment
    bq: Deployment
    results: dict[str, list[tuple[int, dict[str, Any], str]]] = field(default_factory=dict)
    before_failure: dict[str, str] = field(default_factory=dict)
    after_failure: dict[str, str] = field(default_factory=dict)
    failed: tuple[int, dict[str, Any], str] | None = None
    # Published tables already read, by (target, schema, table): they no longer change.
    frames: dict[tuple[str, str, str], pd.DataFrame] = field(default_factory=dict)


def _two_days(dep: Deployment) -> list[tuple[int, dict[str, Any], str]]:
    # Day 1's docs site is replaced by day 2's before anything reads it: day 2 alone runs the
    # docs step (dbt docs generate), on the emulator only; the DuckDB docs site is run and
    # read by tests/python/orchestration/test_end_to_end.py.
    return [dep.run(DAY1, docs=False), dep.run(DAY2, docs=dep.emulator is not None)]


def _duplicate_one_incident(dep: Deployment) -> None:
    """A second copy of the oldest landed incident: the raw ``unique`` source test must fail."""
    assert dep.emulator is not None
    raw = f"`{dep.emulator.project}`.`{dep.dataset_prefix}raw`.`incidents`"
    dep.emulator.client().query(
        f"insert into {raw} select * from {raw} "
        f"where case_number = (select min(case_number) from {raw})"
    ).result()


@pytest.fixture(scope="module")
def scenario(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    base = tmp_path_factory.mktemp("daily")
    duck = Deployment(base / "duck", START)
    # A dataset prefix, as a shared GCP project would use: blotter_raw, blotter_marts ...
    bq = Deployment(base / "bq", START, target="prod", emulator=emulator, dataset_prefix="blotter_")
    for dep in (duck, bq):
        dep.root.mkdir(parents=True)
    sc = Scenario(duck, bq)
    # The engines share nothing but the code: run them side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {dep.target: pool.submit(_two_days, dep) for dep in (duck, bq)}
        sc.results = {target: f.result() for target, f in futures.items()}
    if all(rc == 0 for rc, _, _ in sc.results["prod"]):
        # The frames the digest reads are day 2's published tables, which the tests compare:
        # kept, so each is read from the emulator once (the failed run must leave them as they
        # are, and test_failing_test_blocks_publication_on_bigquery checks it did).
        sc.before_failure = digest(bq, PUBLISHED, read=lambda s, t: _published(sc, bq, s, t))
        _duplicate_one_incident(bq)
        sc.failed = bq.run(DAY3)
        sc.after_failure = digest(bq, PUBLISHED)
    return sc


def _explain(result: tuple[int, dict[str, Any], str]) -> str:
    rc, summary, stderr = result
    return f"exit {rc}: {summary.get('error')}\n{stderr[-1500:]}"


def test_two_days_publish_on_both_engines(scenario: Scenario) -> None:
    for target in ("dev", "prod"):
        for result in scenario.results[target]:
            assert result[0] == 0, _explain(result)
            assert result[1]["status"] == "succeeded"
            assert result[1]["target"] == target
    day2 = scenario.results["prod"][1][1]
    assert day2["rows_fetched"] == scenario.results["dev"][1][1]["rows_fetched"]
    assert day2["tests_failed"] == 0 and day2["tests_passed"] > 50
    emulator = scenario.bq.emulator
    assert emulator is not None
    datasets = {d.dataset_id for d in emulator.client().list_datasets(emulator.project)}
    published = {"blotter_raw", "blotter_staging", "blotter_marts", "blotter_ml"}
    assert published <= datasets and not {"raw", "marts"} & datasets


def _published(scenario: Scenario, dep: Deployment, schema: str, table: str) -> pd.DataFrame:
    """A published table of ``dep``, read once per scenario (a copy: callers may add columns)."""
    key = (dep.target, schema, table)
    if key not in scenario.frames:
        scenario.frames[key] = dep.read(schema, table)
    return scenario.frames[key].copy()


def _published_pair(scenario: Scenario, schema: str, table: str) -> tuple[pd.DataFrame, ...]:
    return tuple(_published(scenario, dep, schema, table) for dep in (scenario.duck, scenario.bq))


def test_published_marts_match_duckdb(scenario: Scenario) -> None:
    duck, bq = scenario.duck, scenario.bq
    marts = duck.tables("marts")
    assert {"fct_incidents", "fct_incident_counts", "fct_forecasts"} <= set(marts)
    assert bq.tables("marts") == marts
    for table in marts:
        want, got = _published_pair(scenario, "marts", table)
        assert list(got.columns) == list(want.columns), table
        assert len(got) == len(want) > 0, table
        stable = [c for c in want.columns if c not in VOLATILE]
        pd.testing.assert_frame_equal(
            sorted_rows(got[stable], stable),
            sorted_rows(want[stable], stable),
            check_exact=False,
            rtol=1e-9,
            obj=f"marts.{table}",
        )


def test_sums_per_key_match(scenario: Scenario) -> None:
    want, got = _published_pair(scenario, "marts", "fct_incident_counts")
    keys = ["freq", "geo_level", "geo"]
    sums = [f.groupby(keys)["incidents"].agg(["sum", "count"]) for f in (want, got)]
    pd.testing.assert_frame_equal(sums[1], sums[0])
    daily_city = want[(want["freq"] == "daily") & (want["geo_level"] == "city")]
    incidents = _published(scenario, scenario.duck, "marts", "fct_incidents")
    # Conservation on the published mart: every incident with a date is counted once.
    assert daily_city["incidents"].sum() == incidents["occurred_date"].notna().sum()
    want, got = _published_pair(scenario, "marts", "fct_incident_areas")
    by_district = [
        f[f["geo_level"] == "police_district"].groupby("geo").size() for f in (want, got)
    ]
    pd.testing.assert_series_equal(by_district[1], by_district[0])


def test_forecasts_match_within_tolerance(scenario: Scenario) -> None:
    want, got = _published_pair(scenario, "ml", "forecasts")
    for frame in (want, got):
        # One forecast run per day; run ids start with their UTC time, so rank = day.
        frame["day"] = frame["forecast_run_id"].rank(method="dense").astype(int)
    keys = ["day", "freq", "geo_level", "geo", "period_start"]
    assert len(got) == len(want) > 0
    assert set(got["day"]) == set(want["day"]) == {1, 2}
    merged = want.merge(got, on=keys, suffixes=("_duck", "_bq"), validate="one_to_one")
    assert len(merged) == len(want)  # the same series and horizons on both engines
    for col in FORECAST_VALUES:
        pd.testing.assert_series_equal(
            merged[f"{col}_bq"], merged[f"{col}_duck"], check_names=False, rtol=1e-6, atol=1e-6
        )
    assert (merged["model_version_bq"] == merged["model_version_duck"]).all()
    runs = _published_pair(scenario, "ml", "model_runs")
    assert sorted(runs[1]["status"]) == sorted(runs[0]["status"])


def test_failing_test_blocks_publication_on_bigquery(scenario: Scenario) -> None:
    assert scenario.failed is not None, "the two BigQuery days did not succeed"
    rc, summary, stderr = scenario.failed
    assert rc != 0, stderr[-1500:]
    assert summary["status"] == "failed"
    assert any("unique" in t and "record_key" in t for t in summary["failing_tests"]), summary
    assert summary["steps"]["publish"]["status"] == "skipped"
    assert scenario.after_failure == scenario.before_failure
    assert len(scenario.before_failure) > 10
    ledger = runs_json(scenario.bq)
    assert [r["status"] for r in ledger[:3]] == ["failed", "succeeded", "succeeded"]
    assert {r["target"] for r in ledger} == {"prod"}


@pytest.mark.parametrize("schema", ["marts", "ml"])
def test_digests_cover_published_tables(scenario: Scenario, schema: str) -> None:
    # Guards the failure test above: the digest really reads every published table.
    names = {k for k in scenario.before_failure if k.startswith(f"{schema}.")}
    assert names == {f"{schema}.{t}" for t in scenario.bq.tables(schema)}
