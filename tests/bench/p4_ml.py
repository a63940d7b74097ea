"""P4: train + backtest + forecast of every series at every frequency, and its growth.

Runs ``ml.pipeline`` on the warehouse built in P3, then on a copy whose geographies were
doubled (every non-city series twinned): the ratio shows how the cost grows with the number
of series.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.bench.context import Context, copy_home
from tests.bench.data import human
from tests.bench.report import Bench, Target

TARGET_SECONDS = 30.0


def _measure(ctx: Context, bench: Bench, home: Path, profile: str | None) -> None:
    for i in range(ctx.plan.repeats):
        args = ["--db", str(home / "blotter.duckdb"), "--as-of", ctx.plan.as_of.isoformat()]
        if ctx.profile and profile and i == 0:
            args += ["--profile", str(ctx.workdir / "profiles" / profile)]
        done = ctx.step("ml", *args, home=home)
        bench.runs.append(done.seconds)
        bench.peak_rss_mib = max(bench.peak_rss_mib or 0, done.peak_rss_mib)
        bench.notes["forecast rows"] = done.result.get("forecasts")
        bench.notes["process wall s"] = round(done.wall, 2)


def run(ctx: Context, built: Path | None) -> list[Bench]:
    """Measure P4 on the built warehouse ``built`` (from P3)."""
    size = f"marts of {human(ctx.plan.p1_rows)} incidents"
    base = Bench(id="P4", what="train + backtest + forecast, all series × freqs", size=size)
    double = Bench(
        id="P4-2×geo",
        what="same with the geographies doubled",
        size=size,
        reference="P4 (above)",
        ratio_text="t(2× series) / t(1×)",
    )
    if built is None:
        base.error = double.error = "no built warehouse (P3 failed)"
        return [base, double]
    try:
        home = copy_home(built, ctx.workdir / "p4-base")
        _measure(ctx, base, home, "p4-ml")
        base.targets = [
            Target(
                f"≤ {TARGET_SECONDS:.0f} s",
                base.median <= TARGET_SECONDS if ctx.plan.judge else None,
            )
        ]
        shutil.rmtree(home)
    except Exception as exc:  # noqa: BLE001
        base.error = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return [base, double]
    try:
        home = copy_home(built, ctx.workdir / "p4-double")
        twins = ctx.step("double_geo", "--db", str(home / "blotter.duckdb"), home=home)
        base.notes["series"] = twins.result["series_before"]
        double.notes["series"] = twins.result["series_after"]
        _measure(ctx, double, home, None)
        double.reference_runs = list(base.runs)
        double.ratio = double.median / base.median
        shutil.rmtree(home)
    except Exception as exc:  # noqa: BLE001
        double.error = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return [base, double]
