"""A ``blotter`` process started through ``launcher.py``, held at a point inside one step.

The test waits until the process reports the point (a file, no timing luck), then kills it
with SIGKILL or releases it. Output goes to files, so a chatty process never blocks on a full
pipe and the outputs can be searched for secrets afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launcher.py")
REPO = Path(__file__).resolve().parents[3]


@dataclass
class HeldRun:
    """One launched CLI process and the folder it signals through."""

    name: str
    point: str
    proc: subprocess.Popen
    folder: Path

    @classmethod
    def start(cls, name: str, *args: str, hold_at: str, env: dict[str, str], cwd: Path) -> HeldRun:
        """Start ``blotter ARGS`` that holds at ``hold_at`` (see ``launcher.HOLD_POINTS``)."""
        folder = cwd / "held" / name
        folder.mkdir(parents=True)
        env = {
            **env,
            "PYTHONPATH": str(REPO),
            "TRUST_HOLD_AT": hold_at,
            "TRUST_HOLD_DIR": str(folder),
        }
        with open(folder / "stdout", "w") as out, open(folder / "stderr", "w") as err:
            proc = subprocess.Popen(
                [sys.executable, str(LAUNCHER), *args], cwd=cwd, env=env, stdout=out, stderr=err
            )
        return cls(name, hold_at, proc, folder)

    @property
    def pid(self) -> int:
        """The process id (the one the lock and the ledger record)."""
        return self.proc.pid

    @property
    def output(self) -> str:
        """Everything the process printed so far (stderr then stdout)."""
        return "".join(
            (self.folder / part).read_text(errors="replace") for part in ("stderr", "stdout")
        )

    def wait_reached(self, timeout: float = 600) -> None:
        """Poll until the process reports its hold point; fail if it ends first."""
        reached = self.folder / "reached"
        deadline = time.monotonic() + timeout
        while not reached.exists():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} ended (exit {self.proc.returncode}) before reaching "
                    f"{self.point}:\n{self.output[-3000:]}"
                )
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"{self.name} did not reach {self.point} in {timeout}s")
            time.sleep(0.05)
        point, pid = reached.read_text().split()
        assert (point, int(pid)) == (self.point, self.pid)

    def kill(self) -> int:
        """SIGKILL the process (as the OOM killer or a lost machine would) and reap it."""
        os.kill(self.pid, signal.SIGKILL)
        return self.proc.wait(timeout=60)

    def release(self) -> None:
        """Let a held process go on."""
        (self.folder / "release").touch()

    def finish(self, timeout: float = 900) -> int:
        """Wait for the process to end; its exit code."""
        return self.proc.wait(timeout=timeout)
