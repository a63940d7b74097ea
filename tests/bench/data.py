"""The data source of every benchmark: the replay API in its own process, at a chosen scale.

The replay city has ~45 incidents a day at ``scale=1``; ``scale`` multiplies that. The number
of rows between the plan's start and as-of at ``scale=1`` is measured once per work directory
(``calibration.json``), so a requested size (100k, 1M) maps to a scale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from tests.bench.context import Context
from tests.bench.proc import PYTHON, background

CALIBRATION_SCALE = 0.25


@contextmanager
def replay(ctx: Context, as_of: date, scale: float) -> Iterator[str]:
    """Serve the replay API (``as_of``, ``scale``) in a child process; yield its resource URL."""
    argv = [
        PYTHON,
        "-m",
        "tests.bench.steps.replay",
        "--as-of",
        as_of.isoformat(),
        "--scale",
        f"{scale:.6f}",
    ]
    ctx.counter += 1
    log = ctx.workdir / "logs" / f"{ctx.counter:03d}-replay-{as_of}-{scale:.3f}.log"
    with background(argv, ctx.env(ctx.workdir), log_path=log) as info:
        yield str(info["url"])


def rows_at_scale_one(ctx: Context) -> float:
    """Rows the replay API serves from ``plan.start`` to ``plan.as_of`` at ``scale=1``."""
    cache = ctx.workdir / "calibration.json"
    key = f"{ctx.plan.start}..{ctx.plan.as_of}"
    known = json.loads(cache.read_text()) if cache.exists() else {}
    if key not in known:
        with replay(ctx, ctx.plan.as_of, CALIBRATION_SCALE) as url:
            out = ctx.workdir / "calibration-pages"
            counted = ctx.step(
                "pages",
                "--url",
                url,
                "--start",
                ctx.plan.start.isoformat(),
                "--out",
                str(out),
                "--discard",
                home=ctx.workdir,
            )
        known[key] = counted.result["rows"] / CALIBRATION_SCALE
        cache.write_text(json.dumps(known, indent=1))
    return float(known[key])


def scale_for(ctx: Context, rows: int) -> float:
    """The replay scale that gives about ``rows`` incidents of history."""
    return rows / rows_at_scale_one(ctx)


def human(rows: int) -> str:
    """``1000000`` → ``1M``, ``20000`` → ``20k``."""
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1000 and rows % 1000 == 0:
        return f"{rows // 1000}k"
    return f"{rows:,}"
