"""``blotter demo-api`` serves until stopped and rejects bad input with exit code 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests

CLI = [sys.executable, "-m", "orchestration.cli", "demo-api"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_api_serves_until_terminated():
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "--port", str(port), "--as-of", "2024-02-01", "--faults", "drift_new_column"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/resource/d6g9-xbgu.json"
        for _ in range(100):
            try:
                resp = requests.get(url, params={"$limit": "5"}, timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert resp.status_code == 200 and len(resp.json()) == 5
        assert "zip_code" in resp.json()[0]
        latest = requests.get(
            url, params={"$order": "incident_datetime desc", "$limit": "1"}, timeout=10
        ).json()[0]
        assert latest["incident_datetime"] < "2024-02-02"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bad_input_is_one_line_and_exit_2():
    for args in (["--faults", "bogus"], ["--as-of", "2024-13-01"], ["--port", "70000"]):
        done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, args
        assert len(done.stderr.strip().splitlines()) == 1 and "error" in done.stderr
