"""The benchmark harness: the quick suite on tiny sizes appends a well-formed results entry.

Timings are not asserted (they depend on the machine); the shape of the entry is: date,
machine, commit, every benchmark with its repeats, median, peak memory and same-run reference.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[3]
JSON_MARK = "<!-- bench-json: "
EXPECTED = {"P1", "P1-serve", "P3-parse", "P3-full", "P3-incremental", "P4", "P4-2×geo"}


def _harness(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOTTER_", "DBT_"))}
    return subprocess.run(
        [sys.executable, "-m", "tests.bench.run", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _entries(text: str) -> list[dict]:
    return [
        json.loads(line[len(JSON_MARK) : -len(" -->")])
        for line in text.splitlines()
        if line.startswith(JSON_MARK)
    ]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, str]:
    tmp = tmp_path_factory.mktemp("bench")
    results = tmp / "BENCHMARKS.md"
    results.write_text("# Benchmarks\n\nHand-written introduction.\n")
    # P2 (the daily `blotter run`, ~90 s here) is left to `make bench`: the end-to-end tests run
    # the same command many times, and this suite is about the harness. The shortest history
    # the harness takes (90 days) instead of the quick mode's two years: P4's training and
    # backtests cost by history (9.6 -> 1.3 s each, t21), the entry's shape is the same.
    proc = _harness(
        "--quick",
        "--only",
        "P1,P3,P4",
        "--rows",
        "2000",
        "--history-days",
        "90",
        "--results",
        str(results),
        "--workdir",
        str(tmp / "work"),
        timeout=900,
    )
    return proc, results.read_text()


def test_quick_suite_succeeds_and_keeps_the_file(quick_run) -> None:
    proc, text = quick_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert text.startswith("# Benchmarks\n\nHand-written introduction.\n")
    assert "## Results" in text


def test_entry_records_date_machine_and_commit(quick_run) -> None:
    _, text = quick_run
    (entry,) = _entries(text)
    assert entry["mode"] == "quick"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", entry["date"])
    assert re.fullmatch(r"[0-9a-f]{7,40}", entry["commit"])
    assert entry["machine"]["cores"] >= 1
    assert entry["machine"]["ram_gib"] > 0
    assert entry["repeats"] >= 1
    heading = f"### {entry['date']} · quick · commit `{entry['commit']}`"
    assert heading in text


def test_every_benchmark_has_medians_memory_and_its_reference(quick_run) -> None:
    _, text = quick_run
    (entry,) = _entries(text)
    benches = {b["id"]: b for b in entry["benchmarks"]}
    assert EXPECTED == set(benches), sorted(benches)  # --only P1,P3,P4: no P2
    for bid, b in benches.items():
        assert b["error"] is None, f"{bid}: {b['error']}"
        assert b["runs"] and all(r > 0 for r in b["runs"]), bid
        assert b["median_seconds"] == pytest.approx(statistics.median(b["runs"]), abs=1e-3)
        assert b["peak_rss_mib"] > 10, bid
        assert f"| {bid} |" in text
        if b["reference"]:
            assert b["reference_runs"] and b["ratio"] > 0, bid
    for bid in ("P1", "P3-full", "P3-incremental", "P3-parse", "P4-2×geo"):
        assert benches[bid]["reference"], f"{bid} has no same-run reference"
    assert benches["P1"]["rows"] > 1000
    assert benches["P4-2×geo"]["notes"]["series"] > benches["P4"]["notes"]["series"]
    # u41: P3 measures the daily build's selection: the full build ran the unit tests and
    # recorded them, so the incremental build on the same code left them out.
    assert " ran and passed " in benches["P3-full"]["notes"]["unit tests"]
    assert " skipped, run bench " in benches["P3-incremental"]["notes"]["unit tests"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quick", "--rows", "5"], "--rows must be at least 100"),
        (["--quick", "--only", "P9"], "--only takes a subset of P1,P2,P3,P4"),
        (["--quick", "--repeats", "0"], "--repeats must be at least 1"),
        (["--quick", "--history-days", "30"], "--history-days must be at least 90"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    proc = _harness(*args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {message}"
