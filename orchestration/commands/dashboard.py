"""``blotter dashboard``: serve the Streamlit dashboard on the loopback interface."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestration.app import app, console, fail, settings_or_exit
from orchestration.commands.target import Target, engine_or_exit

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def streamlit_argv(port: int, address: str = "127.0.0.1") -> list[str]:
    """The ``streamlit run`` command line: headless, no telemetry, no file watcher."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", address,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--theme.base", "light",
    ]  # fmt: skip


def _port_free(port: int, address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


@app.command("dashboard")
def dashboard_command(
    port: Annotated[int, typer.Option("--port", help="Loopback port to serve on.")] = 8501,
    target: Target = None,
) -> None:
    """Serve the dashboard at http://127.0.0.1:PORT (reads the warehouse read-only)."""
    settings = settings_or_exit()
    if not 1 <= port <= 65535:
        fail(f"--port {port} is not a TCP port (1-65535)")
    if not _port_free(port, "127.0.0.1"):
        fail(f"port {port} on 127.0.0.1 is already in use; pick another with --port")
    if not APP.is_file():
        fail(f"dashboard app not found at {APP}")
    engine = engine_or_exit(settings, target)
    db = settings.duckdb_path.resolve()
    if not engine.is_shared and not db.is_file():
        console.print(f"[yellow]warning:[/] no warehouse at {db} yet: run `blotter run` first")
    console.print(f"dashboard on http://127.0.0.1:{port} reading {engine.where} (Ctrl+C stops it)")
    env = {**os.environ, "BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": engine.target}
    sys.stdout.flush()
    sys.stderr.flush()
    # Replace this process: stopping `blotter dashboard` stops the server, no orphan child.
    os.execve(sys.executable, streamlit_argv(port), env)
