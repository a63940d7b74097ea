"""``blotter dashboard``: argument errors are one line and exit 2; the command line is headless."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.commands.dashboard import APP, streamlit_argv

BLOTTER = str(Path(sys.executable).parent / "blotter")


@pytest.mark.parametrize("port", ["0", "70000"])
def test_bad_port_is_one_line_exit_2(port: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [BLOTTER, "dashboard", "--port", port],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --port {port} is not a TCP port (1-65535)"


def test_busy_port_is_one_line_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [BLOTTER, "dashboard", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
    assert result.returncode == 2
    assert "already in use" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_streamlit_runs_headless_on_loopback_without_telemetry() -> None:
    argv = streamlit_argv(8765)
    assert APP.is_file() and str(APP) in argv
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert flags["--server.headless"] == "true"
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8765"
    assert flags["--browser.gatherUsageStats"] == "false"
