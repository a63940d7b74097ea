"""P1: backfill N incidents from the replay API into raw DuckDB, against the physical limit.

The limit is DuckDB's ``read_json`` of the very pages the backfill requests, saved to disk
first (no HTTP, no Python per row). Repeats alternate limit and backfill, so a change in the
machine's load hits both alike. The download of the pages is reported too: it is the replay
API's own serving speed, which bounds any client on the same cores.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.bench.context import Context
from tests.bench.data import human, replay, scale_for
from tests.bench.report import Bench, Target

TARGET_SECONDS = 60.0
TARGET_RATIO = 0.5


def run(ctx: Context, reference: bool = True) -> tuple[list[Bench], Path | None]:
    """Measure P1 at ``plan.p1_rows``; return the bench lines and the home of the last backfill.

    The returned home (warehouse file + dlt state) is the starting point of P3 and P4. Without
    ``reference`` only the backfill is measured (``make bench-scale`` at 10M: the saved pages
    would take ~11 GB of disk).
    """
    plan = ctx.plan
    rows = plan.p1_rows
    bench = Bench(
        id="P1",
        what="backfill replay API → raw DuckDB (dlt)",
        size=f"{human(rows)} incidents",
        reference="DuckDB read_json of the same pages on disk",
        ratio_text="× the limit's rows/s",
    )
    serve = Bench(
        id="P1-serve", what="download the same pages (replay API + HTTP only)", size=bench.size
    )
    home: Path | None = None
    try:
        scale = scale_for(ctx, rows)
        with replay(ctx, plan.as_of, scale) as url:
            pages = ctx.fresh_dir("p1-pages")
            got = (
                None
                if not reference
                else ctx.step(
                    "pages",
                    "--url",
                    url,
                    "--start",
                    plan.start.isoformat(),
                    "--out",
                    str(pages),
                    home=ctx.workdir,
                )
            )
            if got is not None:
                serve.runs.append(got.seconds)
                serve.rows = got.result["rows"]
                serve.peak_rss_mib = got.peak_rss_mib
                serve.notes = {
                    "pages": got.result["pages"],
                    "MiB": round(got.result["bytes"] / 2**20, 1),
                }
            limit = None
            for i in range(plan.repeats):
                if reference:
                    limit_home = ctx.fresh_dir(f"p1-limit-{i}")
                    limit = ctx.step(
                        "read_json",
                        "--pages",
                        str(pages),
                        "--db",
                        str(limit_home / "limit.duckdb"),
                        home=limit_home,
                    )
                    bench.reference_runs.append(limit.seconds)
                    bench.reference_rows = limit.result["rows"]
                    shutil.rmtree(limit_home)

                home = ctx.fresh_dir(f"p1-backfill-{i}")
                args = [
                    "--url",
                    url,
                    "--db",
                    str(home / "blotter.duckdb"),
                    "--start",
                    plan.start.isoformat(),
                    "--as-of",
                    plan.as_of.isoformat(),
                ]
                if ctx.profile and i == 0:
                    args += ["--profile", str(ctx.workdir / "profiles" / "p1-backfill")]
                done = ctx.step("backfill", *args, home=home)
                bench.runs.append(done.seconds)
                bench.rows = int(done.result["loaded"])
                bench.peak_rss_mib = max(bench.peak_rss_mib or 0, done.peak_rss_mib)
                bench.notes = {
                    "scale": round(scale, 3),
                    "process wall s": round(done.wall, 2),
                    "CPU s": round(done.cpu, 2),
                    "limit peak RSS MiB": round(limit.peak_rss_mib) if limit else None,
                    "dlt phases s": done.result.get("phases"),
                }
                if i + 1 < plan.repeats:
                    shutil.rmtree(home)
        shutil.rmtree(pages)
    except Exception as exc:  # noqa: BLE001 - one failed benchmark must not stop the others
        bench.error = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return [bench, serve], None
    if not reference:
        bench.reference = ""
        return [bench], home
    rate = bench.rows / bench.median
    limit_rate = bench.reference_rows / bench.reference_median
    bench.ratio = rate / limit_rate
    bench.targets = [
        Target(
            f"≤ {TARGET_SECONDS:.0f} s for 1M",
            bench.median <= TARGET_SECONDS if plan.judge else None,
        ),
        Target(f"≥ {TARGET_RATIO}× limit", bench.ratio >= TARGET_RATIO),
    ]
    return [bench, serve], home
