"""How orchestration calls dbt: the environment, the vars, and what a failed build means.

dbt runs in-process (``orchestration.dbt_runner``). It gets the warehouse settings through the
environment from the run's engine (``Engine.dbt_env()``; ``profiles.yml`` reads them with
``env_var``) but NEVER the pseudonym key: dbt reads the key from ``restricted.pseudonym_key``
(``orchestration.pseudonym``), so no compiled SQL, manifest or log can hold it (CONTRACTS.md A).

dbt vars passed (CONTRACTS.md B): ``schema_prefix`` ('audit_' for audited builds, '' where the
published schemas are addressed) and ``data_start`` (BLOTTER_START_DATE). dbt fixes schemas at
parse time only: a build's relations are then moved to the schemas the engine builds in
(:func:`project`; DuckDB's blue/green colours), so the var and the saved parse never change.
The run's as-of, dbt's ``data_cutoff``, goes in the environment as ``BLOTTER_DBT_DATA_CUTOFF``
(the ``date_var`` macro reads ``--vars`` first, then that): vars that change every day would
make dbt parse the whole project again every day, a changed env var re-parses only the two
files that read it.

dbt parses the project once per run (:func:`project`): every later call gets that manifest, so
the docs step and BigQuery's view recreation (published schemas, other vars) parse nothing.

On DuckDB that parse reuses the saved parse of the same project, target and schema prefix
whatever the warehouse file and start date (:func:`_saved_parse`): dbt keeps its saved parse only
while the profile and vars are unchanged, and the profile holds the file's path, so every run on
a new file (each test, an operator's first run) parsed the whole project (~13 CPU s). dbt parses
against one fixed file per saved parse (``engines.duckdb.dbt.parse_path``) in
``target/blotter_parse/`` of the project, with ``data_start`` in the environment
(:func:`_parse_vars`), keeping all its own checks (changed files, vars, env vars, versions); the
parsed relations are then re-pointed at the real file's catalog
(``dbt_manifest.repoint_catalog``). The saved parse is replaced atomically, so concurrent runs
read a whole one or none.

Environment variables read here: none; the engine's ``BLOTTER_*`` values are *set* for each dbt
call (``dbt_runner`` hides ``BLOTTER_PSEUDONYM_KEY`` from every dbt call), and
``DBT_TARGET_PATH`` for the parse (a private directory next to the saved parse).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engines.base import AUDIT_PREFIX, PublishBlocked
from engines.duckdb import dbt as duckdb_dbt
from orchestration.dbt_manifest import build_manifest, published_manifest, repoint_catalog
from orchestration.dbt_runner import DbtRunResult, run_dbt
from orchestration.logs import get_logger
from orchestration.parse_folders import sweep_private_folders
from orchestration.run import RunContext

# The dbt project is the repository root; an installed (non-editable) package, as in the Docker
# image, runs from the project directory instead.
_REPO = Path(__file__).resolve().parent.parent
PROJECT_DIR = _REPO if (_REPO / "dbt_project.yml").is_file() else Path.cwd()
FORECASTING = "path:models/marts/forecasting"
# Read by the date_var macro when no data_cutoff var is given (see the module docstring).
CUTOFF_ENV = "BLOTTER_DBT_DATA_CUTOFF"
# The same for data_start (the date_var macro), in the saved parse only (see _parse_vars).
START_ENV = "BLOTTER_DBT_DATA_START"
# DuckDB's saved parses, one directory per project, target and vars (see the module docstring).
SAVED_PARSES = PROJECT_DIR / "target" / "blotter_parse"
PARTIAL_PARSE = "partial_parse.msgpack"  # the file dbt saves its parse to, in its target path
log = get_logger("dbt")


def run_vars(ctx: RunContext, audit: bool) -> dict[str, str]:
    """dbt vars of one invocation of a run (CONTRACTS.md B): the same every day."""
    return {
        "schema_prefix": AUDIT_PREFIX if audit else "",
        "data_start": ctx.settings.start_date.isoformat(),
    }


def run_env(ctx: RunContext) -> dict[str, str | None]:
    """The environment of one dbt call: the engine's settings and the run's data cutoff."""
    return {**ctx.engine.dbt_env(), CUTOFF_ENV: ctx.as_of.isoformat()}


def outputs(result: DbtRunResult) -> dict[str, Any]:
    """Ledger fields of one dbt invocation."""
    return {
        "tests_passed": result.tests_passed,
        "tests_failed": result.tests_failed,
        "tests_warned": result.tests_warned,
        "failing_tests": result.failing_tests,
    }


def _call(
    ctx: RunContext,
    command: str,
    audit: bool,
    manifest: Any = None,
    full_refresh: bool = False,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    vars: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> DbtRunResult:
    engine = ctx.engine
    try:
        result = run_dbt(
            command,
            vars=run_vars(ctx, audit) if vars is None else vars,
            target=ctx.target,
            full_refresh=full_refresh,
            project_dir=PROJECT_DIR,
            env={**run_env(ctx), **(env or {})},
            # dbt's own console lines would break `--log-format json`; its log file keeps them.
            extra_args=(
                *(("--log-level", "none") if ctx.log_format == "json" else ("--quiet",)),
                *engine.dbt_extra_args(command),
                *extra_args,
            ),
            select=select,
            exclude=exclude,
            manifest=manifest,
        )
    finally:
        engine.after_dbt()
    ctx.dbt_parses += result.parses
    ctx.dbt_full_parses += result.full_parses
    log.info(
        f"dbt {command}: {'ok' if result.success else 'failed'} in {result.seconds:.1f}s",
        extra={
            "tests_passed": result.tests_passed,
            "tests_warned": result.tests_warned,
            "failing_tests": result.failing_tests,
            "failing_nodes": result.failing_nodes[:5],
            "dbt_parses": result.parses,
            "dbt_full_parses": result.full_parses,
        },
    )
    if result.transient is not None:
        raise type(result.transient)(result.error or str(result.transient))
    return result


def _parse_vars(ctx: RunContext) -> tuple[dict[str, str], dict[str, str]]:
    """(vars, environment) of the saved parse: the audit vars, but ``data_start`` in the env.

    Other vars make dbt parse the whole project, another env var value only the files that
    read it. The ``date_var`` macro reads the var, else the env var: the parse renders the same
    text, and the build, which gets the run's own vars, compiles with them anyway.
    """
    vars = run_vars(ctx, audit=True)
    return vars, {START_ENV: vars.pop("data_start")}


def saved_parse_dir(ctx: RunContext) -> Path:
    """Where the saved parse of this run's project, target and parse vars lives (DuckDB)."""
    key = json.dumps([str(PROJECT_DIR), ctx.target, _parse_vars(ctx)[0]], sort_keys=True)
    return SAVED_PARSES / hashlib.sha256(key.encode()).hexdigest()[:16]


def _parse_beside(ctx: RunContext, where: Path, reuse: bool) -> DbtRunResult | None:
    """dbt's parse against ``where``'s fixed file, from its saved parse when ``reuse``; the
    saved parse replaced by the new one. None when the saved parse cannot be read."""
    saved = where / PARTIAL_PARSE
    try:
        private = Path(tempfile.mkdtemp(dir=where))
        # A copy, so that dbt reads one whole saved parse while other runs replace it.
        if reuse and saved.is_file():
            shutil.copyfile(saved, private / PARTIAL_PARSE)
        vars, env = _parse_vars(ctx)
        env |= {
            "BLOTTER_DUCKDB_PATH": str(duckdb_dbt.parse_path(where)),
            "DBT_TARGET_PATH": str(private),
        }
    except OSError as exc:
        log.info(f"dbt parses the whole project: its saved parse is unreadable ({exc})")
        return None
    try:
        # No manifest.json: it would go to the private folder removed below (0.1-0.35 CPU s;
        # the build writes target/manifest.json). dbt writes its saved parse regardless.
        result = _call(
            ctx, "parse", audit=True, env=env, vars=vars, extra_args=("--no-write-json",)
        )
        try:  # dbt writes its parse only when it parsed something; rename is atomic
            if (private / PARTIAL_PARSE).is_file():
                os.replace(private / PARTIAL_PARSE, saved)
        except OSError as exc:
            log.info(f"dbt's saved parse was not replaced ({exc})")
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return result


def _saved_parse(ctx: RunContext) -> DbtRunResult | None:
    """The audit parse made against the saved parse's fixed file, re-pointed at the warehouse.

    None when it cannot be used (no writable directory for it, or a catalog it cannot
    re-point): the caller then parses at the warehouse's own path, as dbt alone would.
    """
    real = duckdb_dbt.catalog(Path(str(ctx.engine.dbt_env()["BLOTTER_DUCKDB_PATH"])))
    if duckdb_dbt.PARSE_CATALOG in real:  # re-pointing could not tell the two names apart
        return None
    where = saved_parse_dir(ctx)
    saved = where / PARTIAL_PARSE
    try:
        where.mkdir(parents=True, exist_ok=True)
        sweep_private_folders(where)
    except OSError as exc:
        log.info(f"dbt parses the whole project: no directory for its saved parse ({exc})")
        return None
    had_saved = saved.is_file()
    result = _parse_beside(ctx, where, reuse=True)
    if result is not None and not result.success and had_saved:
        # A saved parse is only a shortcut: dbt's partial parsing can fail a project that
        # parses (a macro's doc moved to another YAML file), so parse it whole, once.
        log.warning(f"dbt's saved parse failed ({result.error}); parsing the whole project")
        result = _parse_beside(ctx, where, reuse=False)
    if result is not None and result.success and result.manifest is not None:
        try:
            repoint_catalog(result.manifest, duckdb_dbt.PARSE_CATALOG, real)
        except RuntimeError as exc:
            log.warning(f"dbt parses the whole project: {exc}")
            return None
    return result


def project(ctx: RunContext, audit: bool = True) -> Any:
    """The run's parsed dbt project (a ``Manifest``) for the build or the published schemas.

    dbt parses once per run, with the audit vars (one saved parse whatever the colours); that
    parse is re-pointed at the schemas this command builds in (``Engine.build_prefixes``: DuckDB's
    colour not live, per schema), and a copy at the published schemas
    (``orchestration.dbt_manifest``), because parsing with other vars restarts partial parsing
    from scratch.

    Raises:
        RuntimeError: the project does not parse (dbt's error).
    """
    if True not in ctx.dbt_manifests:
        saved = _saved_parse(ctx) if ctx.engine.name == "duckdb" else None
        result = saved or _call(ctx, "parse", audit=True)
        if not result.success or result.manifest is None:
            raise RuntimeError(result.error or "dbt could not parse the project")
        ctx.dbt_manifests[True] = build_manifest(result.manifest, ctx.engine.build_prefixes())
    if audit not in ctx.dbt_manifests:
        built = ctx.engine.build_prefixes()  # the same for the whole command
        ctx.dbt_manifests[audit] = published_manifest(ctx.dbt_manifests[True], built)
    return ctx.dbt_manifests[audit]


def invoke_dbt(
    ctx: RunContext,
    command: str,
    audit: bool = True,
    full_refresh: bool = False,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> DbtRunResult:
    """Run one dbt command in-process against the run's target, on the run's parsed project.

    Raises:
        TransientError: dbt crashed on a transient cause (a held lock, a 5xx): the run retries.
        RuntimeError: the project does not parse.
    """
    return _call(
        ctx,
        command,
        audit,
        manifest=project(ctx, audit),
        full_refresh=full_refresh,
        select=select,
        exclude=exclude,
    )


def checked(result: DbtRunResult, notes: Sequence[str] = ()) -> dict:
    """A ``dbt build``'s outputs (with the ledger ``notes``, if any); raise unless every node
    and test passed (``unit_test_memo.build``, the daily graph's builds).

    Raises:
        PublishBlocked: error-severity tests failed (publish must not happen).
        RuntimeError: a model, seed or snapshot failed.
    """
    out = {**outputs(result), "notes": list(notes)} if notes else outputs(result)
    if result.failing_tests:
        raise PublishBlocked(result.failing_tests, outputs=out)
    if not result.success:
        raise RuntimeError(
            "; ".join(result.failing_nodes[:5]) or result.error or "dbt build failed"
        )
    return out
