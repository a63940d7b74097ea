"""Run one benchmark step in its own process and measure it.

Each step is a child process so that its wall time, CPU time and peak memory are its own:
``os.wait4`` returns the rusage of exactly that child (and of any grandchildren it waited for),
so ``ru_maxrss`` is the peak resident set of the step, not of the harness.

A step writes one JSON object as the last line of its stdout (``emit``); the harness merges it
with the process measurements.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class StepError(RuntimeError):
    """A step exited non-zero, timed out, or printed no result line."""


@dataclass
class Measured:
    """One child process: what it reported plus what the harness measured.

    Attributes:
        result: The step's own JSON result (its ``seconds`` times only the measured section).
        wall: Wall-clock seconds of the whole process (interpreter start and imports included).
        cpu: User + system CPU seconds of the process and its waited-for children.
        peak_rss_mib: Peak resident set size in MiB.
    """

    result: dict[str, Any]
    wall: float
    cpu: float
    peak_rss_mib: float
    argv: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """The step's own timing when it reported one, else the process wall time."""
        return float(self.result.get("seconds", self.wall))


def emit(result: Mapping[str, Any]) -> None:
    """Print a step's result as the last stdout line (called inside the child)."""
    sys.stdout.flush()
    print(json.dumps(dict(result), default=str), flush=True)


def _last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return {}


def run_measured(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    cwd: Path = REPO,
    log_path: Path | None = None,
    require_result: bool = True,
) -> Measured:
    """Run ``argv`` as a child process and measure it.

    Args:
        argv: The command (usually ``[PYTHON, "-m", "tests.bench.steps.<x>", ...]``).
        env: The child's complete environment.
        timeout: Seconds before the child (and its process group) is killed.
        cwd: Working directory (the repo root: dbt finds its project there).
        log_path: Where the child's stderr (and stdout) are kept for post-mortems.
        require_result: Fail when the child prints no JSON result line.

    Raises:
        StepError: non-zero exit, timeout, or missing result line; the message ends with the
            last line of the child's stderr.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=out, stderr=err, start_new_session=True
        )
        deadline = started + timeout
        status = None
        usage = None
        try:
            while status is None:
                pid, wait_status, ru = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    status, usage = wait_status, ru
                    break
                if time.perf_counter() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, status, usage = os.wait4(proc.pid, 0)
                    status = None
                    break
                time.sleep(0.02)
        except BaseException:  # interrupted: the child runs in its own session, stop it too
            os.killpg(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            raise
        wall = time.perf_counter() - started
        proc.returncode = 0  # reaped by wait4; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(f"$ {' '.join(argv)}\n--- stdout\n{stdout}\n--- stderr\n{stderr}")
    tail = next((ln for ln in reversed(stderr.splitlines()) if ln.strip()), "")[-300:]
    name = " ".join(str(a) for a in argv[1:4])
    if status is None:
        raise StepError(f"{name}: timed out after {timeout:.0f} s ({tail})")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise StepError(f"{name}: exit {code} ({tail})")
    result = _last_json_line(stdout)
    if require_result and not result:
        raise StepError(f"{name}: printed no JSON result ({tail})")
    assert usage is not None
    return Measured(
        result=result,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
        argv=list(argv),
    )


@contextmanager
def background(
    argv: Sequence[str], env: Mapping[str, str], log_path: Path, ready_timeout: float = 300.0
) -> Iterator[dict[str, Any]]:
    """Start a long-lived child (e.g. the replay server) and yield its first JSON stdout line.

    The child's stderr goes to ``log_path``. It is stopped (SIGTERM, then SIGKILL) when the
    block exits.

    Raises:
        StepError: the child exits or prints nothing within ``ready_timeout`` seconds.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=REPO,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
        try:
            started = time.monotonic()
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], ready_timeout)
            line = proc.stdout.readline() if ready else ""
            if not line.strip().startswith("{"):
                tail = log_path.read_text()[-300:].strip().splitlines()
                raise StepError(
                    f"{' '.join(argv[1:4])}: did not start ({tail[-1] if tail else 'no output'})"
                )
            info: dict[str, Any] = json.loads(line)
            info["startup_seconds"] = time.monotonic() - started
            info["pid"] = proc.pid
            yield info
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
