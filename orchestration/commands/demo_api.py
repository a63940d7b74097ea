"""``blotter demo-api``: serve the offline replay of Buffalo's Crime Incidents SODA API."""

from __future__ import annotations

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
            "http5xx, slow, malformed, duplicates, drift_new_column, drift_type_change.",
        ),
    ] = None,
) -> None:
    """Serve a deterministic synthetic city as a SODA API until interrupted (Ctrl-C)."""
    settings = settings_or_exit(**({"BLOTTER_DEMO_FAULTS": faults} if faults is not None else {}))
    day = as_of_or_exit(as_of)
    if not 0 <= port <= 65535:
        fail(f"--port {port} is not a TCP port (0..65535)")

    from ingestion.replay.server import ReplayServer

    try:
        server = ReplayServer(port, day, settings.demo_faults)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
    console.print(
        f"[bold green]replay API[/] {server.resource_url} "
        f"(as of {day or 'today'}; faults: {', '.join(settings.demo_faults) or 'none'}). "
        "Ctrl-C stops it.",
        highlight=False,
        soft_wrap=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("replay API stopped")
    finally:
        server.server_close()
