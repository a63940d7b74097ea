"""P3: one dbt invocation (``parse`` or ``build``) through ``orchestration.dbt_runner``.

The warehouse file and target directory come from the environment the harness sets
(``BLOTTER_DUCKDB_PATH``, ``DBT_TARGET_PATH``). For ``parse`` the phases of
``target/perf_info.json`` are reported; for ``build`` the slowest nodes.

Usage: ``python -m tests.bench.steps.dbt build [--exclude SELECTOR] [--cold]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from tests.bench.proc import REPO, emit

# Fields of dbt's perf_info.json worth reporting.
_PERF_KEYS = (
    "load_all_elapsed",
    "path_count",
    "parsed_path_count",
    "is_partial_parse_enabled",
    "read_files_elapsed",
    "load_macros_elapsed",
    "parse_project_elapsed",
    "patch_sources_elapsed",
    "process_manifest_elapsed",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("parse", "build"))
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--cold", action="store_true", help="--no-partial-parse")
    args = parser.parse_args()

    from engines.duckdb.key_store import DuckDBKeyStore
    from orchestration.dbt_runner import run_dbt
    from orchestration.settings import DEV_PSEUDONYM_KEY

    if args.command == "build":  # as `blotter transform` does: staging joins to the key table
        DuckDBKeyStore(Path(os.environ["BLOTTER_DUCKDB_PATH"])).write_key(DEV_PSEUDONYM_KEY)
    extra = ("--quiet", "--no-partial-parse") if args.cold else ("--quiet",)
    started = time.perf_counter()
    # The published schemas (`marts`, ...) as `blotter run` leaves them; P4 reads them.
    result = run_dbt(
        args.command, exclude=args.exclude, vars={"schema_prefix": ""}, extra_args=extra
    )
    seconds = time.perf_counter() - started
    if not result.success:
        failing = [f"{n.name}: {n.message}" for n in result.nodes if n.status in ("error", "fail")]
        sys.exit(f"dbt {args.command} failed: {result.error or '; '.join(failing[:3])}")
    out: dict = {"seconds": seconds, "dbt_seconds": result.seconds}
    if args.command == "parse":
        target = Path(os.environ.get("DBT_TARGET_PATH", REPO / "target"))
        perf = json.loads((target / "perf_info.json").read_text())
        out["perf"] = {k: perf[k] for k in _PERF_KEYS if k in perf}
    else:
        nodes = sorted(result.nodes, key=lambda n: n.seconds, reverse=True)
        out["nodes"] = len(nodes)
        out["slowest"] = [f"{n.name} {n.seconds:.2f}" for n in nodes[:5]]
        out["node_seconds"] = round(sum(n.seconds for n in nodes), 2)
        out["tests"] = sum(1 for n in nodes if n.resource_type in ("test", "unit_test"))
    emit(out)


if __name__ == "__main__":
    main()
