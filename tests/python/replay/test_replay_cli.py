"""``blotter demo-api`` serves until stopped and rejects bad input with exit code 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests
from real_samples import CHICAGO_API
from typer.testing import CliRunner

from orchestration.cli import app

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


def test_demo_api_serves_a_portal_export_under_its_profile():
    port = _free_port()
    args = ["--port", str(port), "--from-file", str(CHICAGO_API), "--profile", "chicago"]
    proc = subprocess.Popen([*CLI, *args], stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/resource/ijzp-q8t2.json"
        banner = proc.stderr.readline()  # printed once the server listens
        assert f"BLOTTER_SOURCE={url}#chicago" in banner
        rows = requests.get(url, params={"$limit": "2000", "$order": ":id"}, timeout=10).json()
        assert len(rows) == 1000 and rows[0]["id"] == "13849575"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bad_file_options_are_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    for args in (
        ["--from-file", str(CHICAGO_API)],  # no profile
        ["--profile", "chicago"],  # no file
        ["--from-file", "/nonexistent.csv", "--profile", "chicago"],
        ["--from-file", str(CHICAGO_API), "--profile", "atlantis"],
        ["--from-file", str(CHICAGO_API), "--profile", "sf"],  # the file does not fit the profile
        ["--from-file", str(CHICAGO_API), "--profile", "chicago", "--faults", "malformed"],
    ):
        done = CliRunner().invoke(app, ["demo-api", *args])  # refused before serving
        assert done.exit_code == 2, (args, done.output)
        assert len(done.stderr.strip().splitlines()) == 1 and "error" in done.stderr, args
