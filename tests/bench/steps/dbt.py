"""P3: one dbt invocation (``parse`` or ``build``) through ``orchestration.dbt_runner``.

The warehouse file and target directory come from the environment the harness sets
(``BLOTTER_DUCKDB_PATH``, ``DBT_TARGET_PATH``). For ``parse`` the phases of
``target/perf_info.json`` are reported; for ``build`` the slowest nodes.

``build`` leaves the unit tests out as the daily build does (``orchestration.unit_test_memo``,
the same functions on the warehouse file's ``ops.unit_test_passes``): a build on code whose unit
tests already passed in this warehouse skips them, any other runs them and records the pass.
dbt parses first (its manifest is what the digest reads) and the build reuses that parse, as
``blotter run`` does; ``--unit-tests always`` runs them regardless, for comparison.

Usage: ``python -m tests.bench.steps.dbt build [--exclude SELECTOR] [--cold]
[--unit-tests memo|always]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

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


def _build(args: argparse.Namespace, vars: dict, extra: tuple[str, ...]) -> tuple[Any, str]:
    """Parse, then build on that parse with the daily build's unit-test memo."""
    from engines.duckdb.ledger import DuckDBLedger
    from orchestration import unit_test_memo
    from orchestration.dbt_runner import PROJECT_DIR, run_dbt

    parsed = run_dbt("parse", vars=vars, extra_args=(*extra, "--no-write-json"))
    if not parsed.success or parsed.manifest is None:
        sys.exit(f"dbt parse failed: {parsed.error}")
    store = DuckDBLedger(Path(os.environ["BLOTTER_DUCKDB_PATH"]))
    # The daily build's selection (steps.build): the same scope, so the same digest rule.
    scope = {"select": [], "exclude": sorted(args.exclude), "full_refresh": False}
    run_parts = unit_test_memo.parts(vars, os.environ.get("BLOTTER_TARGET"), PROJECT_DIR, scope)
    memo = unit_test_memo.plan(store, parsed.manifest, run_parts)
    if args.unit_tests == "always":
        memo = unit_test_memo.Memo(memo.basis, why="--unit-tests always")
    result = run_dbt(
        "build",
        exclude=[*args.exclude, *memo.exclude],
        vars=vars,
        extra_args=extra,
        manifest=parsed.manifest,
    )
    return result, unit_test_memo.settle(store, memo, result, run_id="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("parse", "build"))
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--cold", action="store_true", help="--no-partial-parse")
    parser.add_argument("--unit-tests", choices=("memo", "always"), default="memo")
    args = parser.parse_args()

    from engines.duckdb.key_store import DuckDBKeyStore
    from orchestration.dbt_runner import run_dbt
    from orchestration.settings import DEV_PSEUDONYM_KEY

    if args.command == "build":  # as `blotter transform` does: staging joins to the key table
        DuckDBKeyStore(Path(os.environ["BLOTTER_DUCKDB_PATH"])).write_key(DEV_PSEUDONYM_KEY)
    extra = ("--quiet", "--no-partial-parse") if args.cold else ("--quiet",)
    started = time.perf_counter()
    # The published schemas (`marts`, ...) as `blotter run` leaves them; P4 reads them.
    vars = {"schema_prefix": ""}
    memo_note = None
    if args.command == "build":
        result, memo_note = _build(args, vars, extra)
    else:
        result = run_dbt(args.command, exclude=args.exclude, vars=vars, extra_args=extra)
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
        out["unit_tests"] = sum(1 for n in nodes if n.resource_type == "unit_test")
        out["unit_test_note"] = memo_note
    emit(out)


if __name__ == "__main__":
    main()
