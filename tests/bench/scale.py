"""``make bench-scale``: the backfill and the daily run as the history grows to 10M incidents.

One entry in BENCHMARKS.md, one table: the backfill (P1: rows/s and peak RSS, with DuckDB's
``read_json`` of the same pages where the pages fit on disk) at each ``--sizes`` point, then
the daily ``blotter run`` (P2, one new day on that history) at each ``--daily`` point, with
t(largest) / t(smallest) judged against issue 16's 1.5. It reuses the harness (every step in
its own measured process, the replay API in another) and takes tens of minutes at 10M.

Usage: ``python -m tests.bench.scale [--sizes 100000,1000000,10000000]
[--daily 1000000,10000000] [--reference-max 1000000] [--results PATH] [--note TEXT]``
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import p1_backfill, p2_daily, report
from tests.bench.context import FULL, Context
from tests.bench.data import human
from tests.bench.proc import REPO
from tests.bench.report import Bench, Target

MEMORY_TARGETS_MIB = {1_000_000: 1024, 10_000_000: 2048}  # issue 16: peak RSS of the backfill
DAILY_RATIO = 1.5  # issue 16: daily run at 10M ≤ 1.5 × its 1M time


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(s) for s in text.split(",") if s.strip()})
    if not sizes or sizes[0] < 1000:
        raise ValueError(f"sizes must be at least 1000 rows: {text!r}")
    return sizes


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scale", description=__doc__)
    parser.add_argument("--sizes", type=_sizes, default=_sizes("100000,1000000,10000000"))
    parser.add_argument("--daily", type=_sizes, default=_sizes("1000000,10000000"))
    parser.add_argument("--reference-max", type=int, default=1_000_000)
    parser.add_argument("--results", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--workdir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--note", default="")
    return parser.parse_args(argv)


def backfill(ctx: Context, rows: int, reference: bool) -> list[Bench]:
    """P1 at ``rows`` (one run), named by its size, with the issue's memory target if any."""
    sized = Context(plan=dataclasses.replace(ctx.plan, p1_rows=rows), workdir=ctx.workdir)
    sized.counter = ctx.counter
    benches, home = p1_backfill.run(sized, reference=reference)
    ctx.counter = sized.counter
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)
    for b in benches:
        b.id = f"{b.id}-{human(rows)}"
        if b.id.startswith("P1-") and not b.id.startswith("P1-serve"):
            b.targets = [t for t in b.targets if "limit" in t.text]
            limit = MEMORY_TARGETS_MIB.get(rows)
            if limit and b.peak_rss_mib is not None:
                b.targets.append(
                    Target(f"peak RSS ≤ {limit / 1024:.0f} GiB", b.peak_rss_mib <= limit)
                )
    return benches


def daily(ctx: Context, sizes: list[int]) -> list[Bench]:
    """P2 at each history size (one repeat), the largest judged against the smallest."""
    benches = []
    for i, rows in enumerate(sizes):
        try:
            benches.append(p2_daily._one_size(ctx, rows, f"scale{i}"))
        except Exception as exc:  # noqa: BLE001 - recorded; the other sizes still run
            line = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            benches.append(
                Bench(
                    id=f"P2-{human(rows)}",
                    what="daily `blotter run`",
                    size=f"{human(rows)} incidents of history",
                    error=line,
                )
            )
    small, large = benches[0], benches[-1]
    if len(benches) > 1 and small.runs and large.runs:
        large.reference = f"same daily run on {small.size}"
        large.reference_runs = list(small.runs)
        large.ratio = large.median / small.median
        large.ratio_text = "t(large) / t(small)"
        large.targets = [Target(f"ratio ≤ {DAILY_RATIO}", large.ratio <= DAILY_RATIO)]
    return benches


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the scale benchmarks and append one entry; returns the exit status."""
    try:
        args = _parse(argv)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    plan = dataclasses.replace(FULL, mode="scale", repeats=1, judge=False, timeout=4 * 3600.0)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="blotter-bench-scale-"))
    ctx = Context(plan=plan, workdir=workdir)
    entry = report.new_entry("scale", 1, args.note)
    started = time.monotonic()

    def done(benches: list[Bench]) -> None:
        for b in benches:
            entry["benchmarks"].append(b.to_dict())
            status = b.error or (f"median {b.median:.2f} s" if b.runs else "no runs")
            print(f"[{time.monotonic() - started:6.0f} s] {b.id}: {status}", file=sys.stderr)

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for rows in args.sizes:
            done(backfill(ctx, rows, reference=rows <= args.reference_max))
        done(daily(ctx, args.daily))
    except KeyboardInterrupt:
        entry["note"] = (entry["note"] + " Interrupted: only the benchmarks listed ran.").strip()
    finally:
        entry["seconds"] = round(time.monotonic() - started, 1)
        entry["workdir"] = str(workdir) if args.keep else None
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report.append(args.results, entry)
    print(f"results appended to {args.results} ({entry['seconds']:.0f} s)", file=sys.stderr)
    return 1 if any(b.get("error") for b in entry["benchmarks"]) else 0


if __name__ == "__main__":
    sys.exit(main())
