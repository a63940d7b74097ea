"""a40 (issue 16): the daily run alone, old code against new, on a kept history.

``make bench-scale`` deletes its warehouses; this study starts from a copy of one (a P2
"pristine" home, kept aside while the harness ran: the state a daily run finds) and runs P2's
daily ``blotter run --as-of D+1`` on it with the code of each ``--repos`` entry in turn
(alternated, e.g. old,new,new,old), restoring the kept home at one fixed path each time. It
prints, per run, the process CPU and wall, the load, the build_warehouse step's seconds and
the seconds of the dbt nodes named in ``--nodes`` (from the dbt log).

Usage: ``python -m tests.bench.a40_daily_study --kept DIR --home DIR --rows 10000000
--workdir DIR --repos OLD,NEW,NEW,OLD``. The last run's home is left for inspection.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from pathlib import Path

from tests.bench.context import FULL, Context, copy_home
from tests.bench.data import replay, scale_for
from tests.bench.p2_daily import _ANSI, _NODE, dbt_log_lines, run_args
from tests.bench.proc import run_measured

NODES = (
    "fct_incidents",
    "fct_incident_areas",
    "disjoint_from",
    "relationships_within_fct_incident_areas",
    "unique_fct_incidents",
    "column_rules_fct_incident",
    "unique_combination_of_columns_fct_incident_areas",
    "assert_every_incident_has_its_areas",
    "snap_incidents",
    "int_incidents_deduplicated",
)


def _context(workdir: Path) -> Context:
    plan = dataclasses.replace(FULL, mode="scale", repeats=1, judge=False, timeout=4 * 3600.0)
    return Context(plan=plan, workdir=workdir)


def node_seconds(home: Path, skip: int, nodes: tuple[str, ...]) -> dict[str, float]:
    """Seconds of the dbt nodes starting with one of ``nodes`` in the log after ``skip`` lines."""
    log = home / "dbt-logs" / "dbt.log"
    found: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines()[skip:]:
        match = _NODE.search(_ANSI.sub("", line))
        name = match.group(1).split(".")[-1] if match else ""
        if name.startswith(nodes):
            name = re.sub(r"_[0-9a-f]{10}$", "", name)
            found[name] = found.get(name, 0.0) + float(match.group(2))
    return found


def one_run(ctx: Context, kept: Path, home: Path, repo: Path, url: str, nodes: tuple) -> dict:
    """P2's daily ``blotter run`` with ``repo``'s code on a fresh copy of ``kept`` at ``home``."""
    copy_home(kept, home)
    env = ctx.env(home, BLOTTER_SOURCE=url)
    env["PYTHONPATH"] = str(repo)
    env["PATH"] = f"{repo / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    summary_file = home / "summary.json"
    argv = [
        str(repo / ".venv" / "bin" / "blotter"),
        *run_args(ctx.plan.next_day.isoformat()),
        "--summary-file",
        str(summary_file),
    ]
    load = os.getloadavg()[0]
    seen = dbt_log_lines(home)
    got = run_measured(argv, env, ctx.plan.timeout, cwd=repo, require_result=False)
    steps = json.loads(summary_file.read_text())["steps"]
    return {
        "repo": repo.name,
        "cpu": round(got.cpu, 1),
        "wall": round(got.wall, 1),
        "load": round(load, 1),
        "build_warehouse": steps.get("build_warehouse", {}).get("seconds"),
        "nodes": node_seconds(home, seen, nodes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.a40_daily_study")
    parser.add_argument("--kept", type=Path, required=True, help="a P2 pristine home")
    parser.add_argument("--home", type=Path, required=True, help="where each run's copy goes")
    parser.add_argument("--rows", type=int, required=True, help="the kept history's size")
    parser.add_argument("--workdir", type=Path, required=True, help="holds calibration.json")
    parser.add_argument("--repos", required=True, help="checkouts, in run order")
    parser.add_argument("--nodes", default=",".join(NODES))
    args = parser.parse_args(argv)
    ctx = _context(args.workdir)
    nodes = tuple(args.nodes.split(","))
    with replay(ctx, ctx.plan.next_day, scale_for(ctx, args.rows)) as url:
        for repo in args.repos.split(","):
            print(json.dumps(one_run(ctx, args.kept, args.home, Path(repo), url, nodes)))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
