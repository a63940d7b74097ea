"""``blotter demo-api``: serve the synthetic city, or a portal CSV export, as a SODA API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestration.app import AsOf, app, as_of_or_exit, console, fail, settings_or_exit


@app.command("demo-api")
def demo_api_command(
    port: Annotated[
        int, typer.Option("--port", help="TCP port on 127.0.0.1 (0 picks a free one).")
    ] = 8765,
    as_of: AsOf = None,
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            help="Comma-separated faults to inject (default: BLOTTER_DEMO_FAULTS): http429, "
            "http5xx, slow, malformed, duplicates, drift_new_column, drift_type_change, "
            "future_dated (a file is served with http429, http5xx and slow only).",
        ),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="Serve this portal CSV export instead of the synthetic city (needs --profile).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="Source profile the file follows (buffalo_2019, chicago, sf, ...)."
        ),
    ] = None,
) -> None:
    """Serve a deterministic synthetic city, or a CSV export, as a SODA API until Ctrl-C."""
    settings = settings_or_exit(**({"BLOTTER_DEMO_FAULTS": faults} if faults is not None else {}))
    day = as_of_or_exit(as_of)
    if not 0 <= port <= 65535:
        fail(f"--port {port} is not a TCP port (0..65535)")
    if (from_file is None) != (profile is None):
        fail("--from-file and --profile go together: the profile says how to read the file")

    from ingestion.profiles import ProfileError
    from replay.export import ExportError
    from replay.server import ReplayServer, file_dataset, source_for

    try:
        dataset = file_dataset(from_file, profile) if from_file and profile else None
        server = ReplayServer(port, day, settings.demo_faults, dataset=dataset)
    except (ProfileError, ExportError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
    served = f"{from_file} as {profile}" if from_file else "the synthetic city"
    console.print(
        f"[bold green]replay API[/] {server.resource_url} serving {served} "
        f"(as of {day or 'today'}; faults: {', '.join(settings.demo_faults) or 'none'}). "
        f"Ingest it with BLOTTER_SOURCE={source_for(server)} . Ctrl-C stops it.",
        highlight=False,
        soft_wrap=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("replay API stopped")
    finally:
        server.server_close()
