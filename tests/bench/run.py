"""Blotter's benchmark harness: ``python -m tests.bench.run --quick|--full``.

Runs P2 (daily ``blotter run``), P1 (backfill vs the physical limit), P3 (dbt build) and P4
(training) with every step in its own process, then appends one entry (date, machine,
commit, medians, references, targets) to BENCHMARKS.md. See BENCHMARKS.md for what each
benchmark means. Exit status: 0 when every benchmark ran (targets missed included), 1 when one
could not run, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tests.bench import p1_backfill, p2_daily, p3_dbt, p4_ml, report
from tests.bench.context import FULL, QUICK, Context, Plan
from tests.bench.proc import REPO

# Shortest history --history-days accepts: P4 forecasts from complete periods of it.
MIN_HISTORY_DAYS = 90


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="small sizes, 1 repeat (≤ 2 min)")
    mode.add_argument("--full", action="store_true", help="1M incidents, 3 repeats (minutes)")
    parser.add_argument("--only", default="P1,P2,P3,P4", help="comma-separated, e.g. P1,P3")
    parser.add_argument("--repeats", type=int, help="override the repeats of the mode")
    parser.add_argument("--rows", type=int, help="override the sizes: P1/P3/P4 and P2's large")
    parser.add_argument(
        "--history-days",
        type=int,
        help=f"override the days of history before the as-of (at least {MIN_HISTORY_DAYS})",
    )
    parser.add_argument("--results", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--workdir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the first repeats")
    parser.add_argument("--note", default="", help="a sentence recorded with the results")
    return parser.parse_args(argv)


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    if args.repeats is not None:
        if args.repeats < 1:
            raise ValueError("--repeats must be at least 1")
        plan = dataclasses.replace(plan, repeats=args.repeats)
    if args.rows is not None:
        if args.rows < 100:
            raise ValueError("--rows must be at least 100")
        small = max(50, args.rows // 10)
        sizes = (args.rows,) if len(plan.p2_rows) == 1 else (small, args.rows)
        # Sizes other than the issue's: absolute targets are not judged.
        plan = dataclasses.replace(plan, p1_rows=args.rows, p2_rows=sizes, judge=False)
    if args.history_days is not None:
        if args.history_days < MIN_HISTORY_DAYS:
            raise ValueError(f"--history-days must be at least {MIN_HISTORY_DAYS}")
        start = plan.as_of - timedelta(days=args.history_days)
        plan = dataclasses.replace(plan, start=start, judge=False)
    return plan


def _note(args: argparse.Namespace) -> str:
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    parts = [args.note] if args.note else []
    if load > 0.5 * cores:
        parts.append(
            f"The machine was busy when this run started (1-minute load average {load:.1f} on "
            f"{cores} cores): timings are pessimistic."
        )
    return " ".join(parts)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the suite and append the results; returns the exit status."""
    try:
        args = _parse(argv)
        plan = _plan(args)
        only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
        if not only or only - set(report.SUITES):
            raise ValueError(f"--only takes a subset of {','.join(report.SUITES)}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"blotter-bench-{plan.mode}-"))
    ctx = Context(plan=plan, workdir=workdir, profile=args.profile)
    entry = report.new_entry(plan.mode, plan.repeats, _note(args))
    started = time.monotonic()

    def done(benches: list[report.Bench]) -> None:
        for b in benches:
            entry["benchmarks"].append(b.to_dict())
            status = b.error or (f"median {b.median:.2f} s" if b.runs else "no runs")
            print(f"[{time.monotonic() - started:6.0f} s] {b.id}: {status}", file=sys.stderr)

    # SIGTERM (e.g. a CI timeout) ends the run like Ctrl-C: what finished is still recorded.
    signal.signal(signal.SIGTERM, _interrupt)
    interrupted = False
    try:
        # P2 first: it is the longest and independent of the others (an interrupted full run
        # still records it).
        if "P2" in only:
            done(p2_daily.run(ctx))
        base = None
        if {"P1", "P3", "P4"} & only:
            benches, base = p1_backfill.run(ctx)
            done([b for b in benches if "P1" in only or b.error])
        marts = None
        if {"P3", "P4"} & only:
            benches, marts = p3_dbt.run(ctx, base)
            done([b for b in benches if "P3" in only or b.error])
        if "P4" in only:
            done(p4_ml.run(ctx, marts))
    except KeyboardInterrupt:
        interrupted = True
        entry["note"] = (entry["note"] + " Interrupted: only the benchmarks listed ran.").strip()
    finally:
        entry["seconds"] = round(time.monotonic() - started, 1)
        entry["workdir"] = str(workdir) if args.keep else None
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report.append(args.results, entry)
    print(f"results appended to {args.results} ({entry['seconds']:.0f} s)", file=sys.stderr)
    return 1 if interrupted or any(b.get("error") for b in entry["benchmarks"]) else 0


if __name__ == "__main__":
    sys.exit(main())
