"""``blotter transform``: ``dbt build`` of the warehouse into the dev schemas, with a summary.

It never writes what analysts and the dashboard read: it builds into ``dev_staging``,
``dev_marts``, … (dbt var ``schema_prefix``, default ``dev_``); only ``blotter run`` publishes,
through write-audit-publish. It builds on the target's engine (``--target``, default
``BLOTTER_TARGET``), like every command.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from orchestration.app import app, console, fail, settings_or_exit
from orchestration.commands.target import Target, engine_or_exit

DEV_PREFIX = "dev_"
PSEUDONYMISED = "fct_incidents"
# Schema prefixes transform refuses: the published schemas, and the run's build schemas
# (audit_ on BigQuery, DuckDB's blue/green colours: the published views read one of them).
_RESERVED = ("", "audit_", "blue_", "green_")


def _parse_vars(raw: str | None) -> dict[str, object]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        fail(f'--vars {raw!r} is not JSON; use e.g. \'{{"schema_prefix": "dev_"}}\'')
    if not isinstance(value, dict):
        fail("--vars must be a JSON object")
    return value


@app.command("transform")
def transform_command(
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="dbt selector (repeatable); default: everything."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="dbt selector to skip (repeatable).")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
    ] = False,
    dbt_vars: Annotated[
        str | None,
        typer.Option("--vars", help="dbt vars as a JSON object (schema_prefix default dev_)."),
    ] = None,
    target: Target = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="One line per node while dbt runs.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the per-node summary as JSON on stdout.")
    ] = False,
) -> None:
    """Build, test and snapshot the dbt project into the dev_* schemas (never the published ones).

    Publishing is `blotter run`'s job (write-audit-publish). A key change since the dev schemas
    were built needs --full-refresh.
    """
    settings = settings_or_exit()
    engine = engine_or_exit(settings, target)
    variables = {
        "schema_prefix": DEV_PREFIX,
        "data_start": settings.start_date.isoformat(),
        **_parse_vars(dbt_vars),
    }
    prefix = variables["schema_prefix"]
    if not isinstance(prefix, str) or prefix in _RESERVED:
        fail(
            f"blotter transform does not build into schema_prefix {prefix!r} (the published "
            "or build schemas); use `blotter run` to publish, or another prefix such as dev_"
        )

    from orchestration import pseudonym, session
    from orchestration.dbt_report import print_summary, progress_callback
    from orchestration.dbt_runner import build
    from orchestration.errors import OperatorError

    try:
        with session.writing("transform", settings, engine) as held:
            fix = "blotter transform --full-refresh"
            held.prepare_key(None if full_refresh else prefix, fix=fix)
            with console.status(f"dbt build on target {engine.target} into {prefix}*…"):
                try:
                    result = build(
                        select=select or (),
                        exclude=exclude or (),
                        vars=variables,
                        target=engine.target,
                        full_refresh=full_refresh,
                        env=engine.dbt_env(),
                        callbacks=[progress_callback(console)] if verbose else (),
                        count_rows=engine.count_rows,
                    )
                finally:
                    engine.after_dbt()
            # The fingerprint vouches for the pseudonyms in <prefix>marts: only a build of the
            # pseudonymised mart itself may record it.
            if any(n.name == PSEUDONYMISED and n.status == "success" for n in result.nodes):
                key = pseudonym.Fingerprint.of(settings.pseudonym_key.get_secret_value())
                held.key_store().record(pseudonym.scope_of(prefix), key.stored())
    except OperatorError as exc:
        fail(str(exc))
    print_summary(result, console)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    if not result.success:
        raise typer.Exit(1)
