"""What a daily build continues from, and what that continuation depends on.

- :func:`continued_tables`: the published tables a full build starts from (the rest it
  rewrites);
- :func:`levelled_tables`: those a kept colour (DuckDB) brings level with the live one by moving
  the rows that differ, with what identifies their rows (``engines.duckdb.level``);
- :func:`build_basis`: the digest of code, vars and key a kept colour must have been built with
  to be continued (``engines.duckdb.colour_state``).

Environment variables read here: none.
"""

from __future__ import annotations

import hashlib
import json

from engines.base import PUBLISHED_SCHEMAS
from orchestration import dbt_invoke, dbt_manifest, pseudonym
from orchestration.dbt_invoke import PROJECT_DIR
from orchestration.run import RunContext


def continued_tables(ctx: RunContext) -> set[tuple[str, str]]:
    """The published tables a full build continues from (CONTRACTS16).

    dbt's incremental models and snapshots (from the run's parsed manifest) and the ML store
    in ``ml`` (registry, forecasts, backtests); every other table is rebuilt by the build.
    """
    from ml.tables import ML_TABLES

    tables = dbt_manifest.continued_tables(dbt_invoke.project(ctx), PUBLISHED_SCHEMAS)
    return tables | {("ml", name) for name in ML_TABLES}


# The ML store's tables, levelled per run id with every column compared (a command adds a run's
# rows and may change the registry rows of earlier runs: a promotion, a retirement). The key
# only groups the rows moved: any column would give the same result, a run id moves few.
ML_LEVEL_KEYS = {
    "forecasts": "forecast_run_id",
    "model_performance": "forecast_run_id",
    "model_runs": "run_id",
}


def levelled_tables(ctx: RunContext) -> dict[tuple[str, str], tuple[str, tuple[str, ...] | None]]:
    """The continued tables a kept colour is brought level with the live one by moving the rows
    that differ instead of a copy: dbt's snapshots and the ML store (``engines.duckdb.level``)."""
    from ml.tables import ML_TABLES

    found: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = dict(
        dbt_manifest.levelled_tables(dbt_invoke.project(ctx), PUBLISHED_SCHEMAS)
    )
    for name in ML_TABLES:  # a table without a key here is copied
        if name in ML_LEVEL_KEYS:
            found[("ml", name)] = (ML_LEVEL_KEYS[name], None)
    return found


def build_basis(ctx: RunContext) -> str | None:
    """What the continued tables' rows depend on besides the data, for this build: dbt's code
    and vars, dbt's version (``dbt_manifest.code_basis``) and the pseudonym key. None for a full
    refresh (``blotter rekey``): its rows derive from no earlier state, so no colour built
    before it may be continued against it.

    The key enters as a slow salted hash (``pseudonym.Fingerprint``, salted with the code
    digest so that it is the same every run), never as itself.
    """
    if ctx.full_refresh:
        return None
    from dbt.version import __version__ as dbt_version

    parts = [
        json.dumps(dbt_invoke.run_vars(ctx, audit=True), sort_keys=True),
        (PROJECT_DIR / "dbt_project.yml").read_text(),
        dbt_version,
    ]
    code = dbt_manifest.code_basis(dbt_invoke.project(ctx), parts)
    key = pseudonym.Fingerprint.of(
        ctx.settings.pseudonym_key.get_secret_value(), salt=bytes.fromhex(code)[:16]
    )
    return hashlib.sha256(f"{code} {key.digest}".encode()).hexdigest()
