"""P3: one dbt invocation (``parse`` or ``build``) in-process through ``dbtRunner``.

The warehouse file and target directory come from the environment the harness sets
(``BLOTTER_DUCKDB_PATH``, ``DBT_TARGET_PATH``). For ``parse`` the phases of
``target/perf_info.json`` are reported; for ``build`` the slowest nodes.

Usage: ``python -m tests.bench.steps.dbt build --exclude path:models/marts/forecasting``
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from tests.bench.proc import REPO, emit

# Phases of dbt's perf_info.json worth reporting (seconds).
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
    args = sys.argv[1:]
    if not args or args[0] not in ("parse", "build", "run", "test"):
        sys.exit("usage: python -m tests.bench.steps.dbt parse|build [dbt args...]")
    from dbt.cli.main import dbtRunner

    full = [*args, "--project-dir", str(REPO), "--profiles-dir", str(REPO), "--quiet"]
    started = time.perf_counter()
    result = dbtRunner().invoke(full)
    seconds = time.perf_counter() - started
    if not result.success:
        failing = []
        for res in getattr(result.result, "results", None) or []:
            if str(getattr(res.status, "value", res.status)) in ("error", "fail"):
                failing.append(f"{res.node.name}: {(res.message or '').splitlines()[:1]}")
        sys.exit(f"dbt {args[0]} failed: {result.exception or '; '.join(failing[:3])}")
    out: dict = {"seconds": seconds, "command": " ".join(args)}
    target = Path(os.environ.get("DBT_TARGET_PATH", REPO / "target"))
    if args[0] == "parse":
        perf = json.loads((target / "perf_info.json").read_text())
        out["perf"] = {k: perf[k] for k in _PERF_KEYS if k in perf}
    else:
        nodes = []
        for res in result.result.results:
            nodes.append((res.execution_time, res.node.resource_type, res.node.name))
        nodes.sort(reverse=True)
        out["nodes"] = len(nodes)
        out["slowest"] = [f"{name} {t:.2f}" for t, _, name in nodes[:5]]
        out["node_seconds"] = round(sum(t for t, _, _ in nodes), 2)
    emit(out)


if __name__ == "__main__":
    main()
