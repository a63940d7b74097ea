"""``blotter ingest``: land new and changed incidents from the SODA source into ``raw``.

Lands on the target's engine (``--target``, default ``BLOTTER_TARGET``), like every command.
"""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from engines.base import landing_state_dir
from orchestration.app import AsOf, app, as_of_or_exit, console, fail, settings_or_exit
from orchestration.commands.target import Target, engine_or_exit


@app.command("ingest")
def ingest_command(
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="'demo' (local replay API), a profile name (buffalo, chicago, sf, ...) or a "
            "SODA resource URL whose dataset has a profile (default: BLOTTER_SOURCE).",
        ),
    ] = None,
    as_of: AsOf = None,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Forget the cursor and re-read everything from the start date, merging "
            "(raw never loses a record).",
        ),
    ] = False,
    target: Target = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON line on stdout.")
    ] = False,
) -> None:
    """Fetch new and changed incidents (incremental on :updated_at) into raw.incidents."""
    settings = settings_or_exit(**({"BLOTTER_SOURCE": source} if source else {}))
    day = as_of_or_exit(as_of)
    engine = engine_or_exit(settings, target)

    from ingestion.pipeline import IngestError, ingest
    from orchestration.dates import resolve_as_of
    from orchestration.errors import OperatorError
    from orchestration.session import ingest_guard

    try:  # a start date after the as-of is refused before any file is created
        day = resolve_as_of(day, settings)
    except OperatorError as exc:
        fail(str(exc))

    try:
        with ingest_guard(settings, engine), engine.landing() as destination:
            result = ingest(
                settings.source_url,
                landing_state_dir(engine.local_path),
                settings.start_date,
                as_of=day,
                full_refresh=full_refresh,
                app_token=settings.app_token.get_secret_value() if settings.app_token else None,
                faults=settings.demo_faults,
                show_progress=True,
                destination=destination,
            )
    except IngestError as exc:
        fail(str(exc), code=exc.exit_code)

    if result.new_warehouse:
        console.print(
            f"[bold yellow]warning:[/] created a new warehouse at {engine.where}",
            highlight=False,
            soft_wrap=True,
        )
    for line in result.drift:
        console.print(f"[bold yellow]schema drift:[/] {line}", highlight=False, soft_wrap=True)
    future = f", {result.quarantined_future:,} dated after the as-of" * bool(
        result.quarantined_future
    )
    console.print(
        f"[bold green]ingested[/] {result.source} (profile {result.profile}): fetched "
        f"{result.fetched:,} = loaded {result.loaded:,} + rejected {result.rejected:,} "
        f"({result.duplicates:,} duplicates{future}) in {result.seconds:.1f} s; "
        f"raw.incidents has {result.raw_rows:,} rows (load {result.load_id})",
        highlight=False,
        soft_wrap=True,
    )
    if as_json:
        typer.echo(orjson.dumps(result.to_dict()).decode())
