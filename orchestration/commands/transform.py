"""``blotter transform``: ``dbt build`` of the warehouse with a progress summary."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from orchestration.app import app, console, fail, settings_or_exit


def _parse_vars(raw: str | None) -> dict[str, object]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        fail(f'--vars {raw!r} is not JSON; use e.g. \'{{"schema_prefix": "audit_"}}\'')
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
        str | None, typer.Option("--vars", help="dbt vars as a JSON object.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="One line per node while dbt runs.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the per-node summary as JSON on stdout.")
    ] = False,
) -> None:
    """Build, test and snapshot the dbt warehouse (staging -> marts) on BLOTTER_TARGET."""
    settings = settings_or_exit()
    variables = _parse_vars(dbt_vars)

    from orchestration.dbt_runner import build, print_summary, progress_callback

    env = {
        "BLOTTER_DUCKDB_PATH": str(settings.duckdb_path),
        "BLOTTER_TARGET": settings.target,
        "BLOTTER_PSEUDONYM_KEY": settings.pseudonym_key,
        "BLOTTER_GCP_PROJECT": settings.gcp_project,
        "BLOTTER_BQ_DATASET_PREFIX": settings.bq_dataset_prefix,
        "BLOTTER_BQ_LOCATION": settings.bq_location,
        "BLOTTER_BQ_AUTH_METHOD": settings.bq_auth_method,
        "BLOTTER_BQ_KEYFILE": settings.bq_keyfile,
        "BLOTTER_BQ_API_ENDPOINT": settings.bq_api_endpoint,
    }
    if settings.target != "prod":
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    with console.status(f"dbt build on target {settings.target}…"):
        result = build(
            select=select or (),
            exclude=exclude or (),
            vars=variables,
            target=settings.target,
            full_refresh=full_refresh,
            env=env,
            callbacks=[progress_callback(console)] if verbose else (),
            count_rows_in=settings.duckdb_path if settings.target != "prod" else None,
        )
    print_summary(result, console)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    if not result.success:
        raise typer.Exit(1)
