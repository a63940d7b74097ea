"""The DuckDB publish step alone: CPU and wall of ``publish()`` on a synthetic warehouse.

``python -m tests.bench.publish_step ROWS DIR`` builds, in the schemas the next build writes
(``audit_*`` before blue/green, the colour not live since), a 22-column table of ROWS rows in
marts and snapshots plus small tables and a view, then times ``publish()`` and a checkpoint in
this process (CPU from ``getrusage``) and prints the file size before and after. Works on the
code before blue/green too (issue 16 P2; BENCHMARKS.md "## g31").
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import duckdb

from engines.base import PUBLISHED_SCHEMAS
from engines.duckdb import publish as pub


def _build_prefixes(path: Path) -> dict[str, str]:
    try:
        from engines.duckdb.colours import build_prefixes
    except ImportError:  # the code before blue/green built into audit_*
        return dict.fromkeys(PUBLISHED_SCHEMAS, "audit_")
    with duckdb.connect(str(path)) as con:
        return build_prefixes(con)


def main(rows: int, where: Path) -> str:
    """One measurement; returns its line."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / "publish_step.duckdb"
    path.unlink(missing_ok=True)
    b = _build_prefixes(path)
    with duckdb.connect(str(path)) as con:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema {b[schema]}{schema}")
        marts = b["marts"] + "marts"
        cols = ", ".join(f"md5((range * {i})::varchar) as c{i}" for i in range(20))
        con.execute(
            f"create table {marts}.fct_incidents as "
            f"select range as id, range % 97 as d, {cols} from range(?)",
            [rows],
        )
        con.execute(
            f"create table {b['snapshots']}snapshots.snap_incidents as "
            f"select * from {marts}.fct_incidents"
        )
        con.execute(
            f"create table {marts}.fct_incident_counts as "
            f"select d, count(*) as n from {marts}.fct_incidents group by d"
        )
        con.execute(f"create table {b['ml']}ml.forecasts as select 1 as day")
        con.execute(f"create view {b['staging']}staging.stg as select * from {marts}.fct_incidents")
        con.execute("checkpoint")
    before = path.stat().st_size
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    pub.publish(path)
    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")
    t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    after = path.stat().st_size
    path.unlink()
    return (
        f"rows={rows} publish+checkpoint wall={t1 - t0:.2f}s cpu={cpu:.2f}s "
        f"file_before={before / 2**20:.0f}MiB file_after={after / 2**20:.0f}MiB"
    )


if __name__ == "__main__":
    print(main(int(sys.argv[1]), Path(sys.argv[2])))
