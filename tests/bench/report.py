"""Results: medians, targets, machine facts, and the entry appended to BENCHMARKS.md.

Each entry is a Markdown section (human-readable table) followed by one HTML comment holding
the same data as JSON (``<!-- bench-json: {...} -->``), so tools and tests can parse it back.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.proc import REPO

RESULTS_HEADING = "## Results"
JSON_MARK = "<!-- bench-json: "
SUITES = ("P1", "P2", "P3", "P4")


@dataclass
class Target:
    """One target of the issue, judged only where it applies (the size it was set for)."""

    text: str
    met: bool | None  # None: not judged in this run (e.g. quick sizes)


@dataclass
class Bench:
    """One benchmark line: a measured thing, its reference from the same run, its targets.

    Attributes:
        id: ``P1`` .. ``P4`` plus a suffix (``P2-100k``).
        what: What was timed.
        size: Human size (``1,000,000 incidents``).
        runs: Seconds of each repeat; the median is reported.
        peak_rss_mib: Highest peak RSS over the repeats.
        rows: Rows processed per run (for rows/s), if meaningful.
        reference: Name of the reference measured in the same run.
        reference_runs: Seconds of each reference repeat.
        ratio: The ratio the issue asks for (meaning in ``ratio_text``).
        notes: Extra facts (dbt parse phases, step breakdown, ...).
        error: One line when the benchmark could not run.
    """

    id: str
    what: str
    size: str = ""
    runs: list[float] = field(default_factory=list)
    peak_rss_mib: float | None = None
    rows: int | None = None
    reference: str = ""
    reference_runs: list[float] = field(default_factory=list)
    reference_rows: int | None = None
    ratio: float | None = None
    ratio_text: str = ""
    targets: list[Target] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def median(self) -> float | None:
        """Median seconds of the repeats."""
        return statistics.median(self.runs) if self.runs else None

    @property
    def reference_median(self) -> float | None:
        """Median seconds of the reference repeats."""
        return statistics.median(self.reference_runs) if self.reference_runs else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with the medians included."""
        data = asdict(self)
        data["median_seconds"] = _round(self.median)
        data["reference_median_seconds"] = _round(self.reference_median)
        return data


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU model, kernel, Python, and the load average right now."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def git_commit() -> dict[str, Any]:
    """The commit benchmarked and whether the working tree had uncommitted changes."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    return {
        "commit": git("rev-parse", "--short=12", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def new_entry(mode: str, repeats: int, note: str = "") -> dict[str, Any]:
    """The header of one results entry; benchmarks are added as they finish."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        **git_commit(),
        "machine": machine(),
        "repeats": repeats,
        "note": note,
        "benchmarks": [],
    }


def _secs(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _rate(rows: int | None, seconds: float | None) -> str:
    if not rows or not seconds:
        return ""
    return f" ({rows / seconds:,.0f} rows/s)"


def _met(targets: list[dict[str, Any]]) -> str:
    marks = []
    for t in targets:
        mark = {True: "✅", False: "❌", None: "n/a"}[t["met"]]
        marks.append(f"{t['text']} {mark}")
    return "<br>".join(marks) or "—"


def render(entry: dict[str, Any]) -> str:
    """The Markdown section of one entry (table, notes, then the JSON comment)."""
    m = entry["machine"]
    dirty = " (uncommitted changes)" if entry["dirty"] else ""
    lines = [
        f"### {entry['date']} · {entry['mode']} · commit `{entry['commit']}`{dirty}",
        "",
        f"Machine: {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['cpu']}; {m['system']}, "
        f"Python {m['python']}; load average at start {m['loadavg']}. "
        f"Medians of {entry['repeats']} repeat(s).",
    ]
    if entry.get("note"):
        lines += ["", entry["note"]]
    lines += [
        "",
        "| id | what | size | median (runs) | peak RSS | reference, same run | ratio | targets |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for b in entry["benchmarks"]:
        if b.get("error"):
            lines.append(
                f"| {b['id']} | {b['what']} | {b['size']} | **error**: "
                f"{b['error'].replace('|', '/')} | | | | |"
            )
            continue
        runs = ", ".join(f"{r:.2f}" for r in b["runs"])
        median = f"{_secs(b['median_seconds'])}{_rate(b['rows'], b['median_seconds'])} ({runs})"
        rss = f"{b['peak_rss_mib']:,.0f} MiB" if b.get("peak_rss_mib") else "—"
        ref = ""
        if b.get("reference"):
            ref_rows = b.get("reference_rows") or b.get("rows")
            ref_med = b["reference_median_seconds"]
            ref = f"{b['reference']}: {_secs(ref_med)}{_rate(ref_rows, ref_med)}"
        ratio = f"{b['ratio']:.2f} {b['ratio_text']}" if b.get("ratio") is not None else "—"
        lines.append(
            f"| {b['id']} | {b['what']} | {b['size']} | {median} | {rss} | {ref} | {ratio} "
            f"| {_met(b['targets'])} |"
        )
    notes = [(b["id"], b["notes"]) for b in entry["benchmarks"] if b.get("notes")]
    if notes:
        lines += ["", "Details:"]
        lines += [f"- {bid}: " + "; ".join(f"{k} {v}" for k, v in n.items()) for bid, n in notes]
    lines += ["", JSON_MARK + json.dumps(entry, separators=(",", ":"), default=str) + " -->", ""]
    return "\n".join(lines)


def append(path: Path, entry: dict[str, Any]) -> None:
    """Append ``entry`` under the results heading of ``path`` (created when missing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if RESULTS_HEADING not in text:
        text = text.rstrip("\n") + f"\n\n{RESULTS_HEADING}\n"
    path.write_text(text.rstrip("\n") + "\n\n" + render(entry))


def entries(path: Path) -> list[dict[str, Any]]:
    """Every entry recorded in ``path``, oldest first (parsed from the JSON comments)."""
    found = []
    for line in path.read_text().splitlines():
        if line.startswith(JSON_MARK) and line.endswith(" -->"):
            found.append(json.loads(line[len(JSON_MARK) : -len(" -->")]))
    return found
