"""Same forecasts from two code versions: dump the forecast step's outputs, then compare them.

A speed-up of ``ml`` must not change a published number. ``dump`` runs the pure forecast
(``ml.pipeline.forecast_all`` / ``ml.engine.forecast_panel``) on warehouses' count marts, the
real Chicago homicides (``tests.bench.forecast_data``) and ``forecast-file``'s 52-week and
366-day requests on the replay city, and writes every frequency's forecasts, backtest
performance and registry summary; ``compare`` demands exact equality of two dumps.

Usage::

    python -m tests.bench.forecast_same dump OUT [--db PATH ...]   # with each code version
    python -m tests.bench.forecast_same compare OLD NEW            # exit 1 on any difference
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd


def _cases(dbs: list[Path]):  # noqa: ANN202  (name -> callable returning {freq: FreqResult})
    from ml.config import ForecastConfig
    from ml.engine import forecast_panel
    from ml.panel import build_panel
    from ml.pipeline import forecast_all
    from tests.bench import forecast_data

    config = ForecastConfig()
    cases = {}
    for db in dbs:

        def warehouse(db: Path = db) -> dict:
            import duckdb

            with duckdb.connect(str(db), read_only=True) as con:
                counts = con.sql("select * from marts.fct_incident_counts").df()
            return forecast_all(counts, config)

        cases[f"db-{db.stem}"] = warehouse
    if forecast_data.exists():
        cases["chicago"] = lambda: forecast_all(forecast_data.chicago().counts, config)

    def file_request(freq: str, horizon: int) -> dict:
        counts = forecast_data.replay_city().counts
        counts = counts[counts["freq"] == freq]
        start = pd.to_datetime(counts["period_start"])
        history = counts[start > start.max() - pd.DateOffset(years=5)]
        return {freq: forecast_panel(build_panel(history, freq), config, horizon)}

    cases["file-weekly-52"] = lambda: file_request("weekly", 52)
    cases["file-daily-366"] = lambda: file_request("daily", 366)
    return cases


def dump(out: Path, dbs: list[Path]) -> None:
    """Write each case's forecasts, performance and summary under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, run in _cases(dbs).items():
        started = time.process_time()
        results = run()
        for freq, result in results.items():
            result.forecasts.to_pickle(out / f"{name}.{freq}.forecasts.pkl")
            result.performance.to_pickle(out / f"{name}.{freq}.performance.pkl")
            summary = json.dumps(result.summary(), sort_keys=True, default=str)
            (out / f"{name}.{freq}.summary.json").write_text(summary)
        print(f"{name}: {sorted(results)} {time.process_time() - started:.1f} CPU s", flush=True)


def compare(old: Path, new: Path) -> int:
    """0 when both dumps hold the same files with exactly equal contents, else 1."""
    names = sorted(p.name for p in old.iterdir())
    if names != sorted(p.name for p in new.iterdir()):
        print(f"different files: {names} vs {sorted(p.name for p in new.iterdir())}")
        return 1
    differ = []
    for name in names:
        if name.endswith(".json"):
            same = (old / name).read_text() == (new / name).read_text()
        else:
            a, b = pd.read_pickle(old / name), pd.read_pickle(new / name)
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=True)
                same = True
            except AssertionError:
                same = False
        if not same:
            differ.append(name)
    print(f"{len(names) - len(differ)} of {len(names)} files identical", end="")
    print(f"; differ: {', '.join(differ)}" if differ else "")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--db", type=Path, action="append", default=[])
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.out, args.db)
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
