"""Where ``blotter forecast-file``'s CPU goes (issue 14's "forecast-file ... <= 20 s" target).

One fresh process: CPU seconds of each phase (imports, read + validate, gap fill, the
forecast, the CSV write), then cProfile's own time summed per source file for the forecast
phase. Usage: ``python -m tests.bench.forecast_file_profile HISTORY.csv daily 366 [OUT.csv]``
(the bench's 5-year file: ``tests.bench.forecast_run.time_forecast_file`` writes it).
"""

from __future__ import annotations

import cProfile
import pstats
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _by_file(stats: pstats.Stats, top: int) -> list[tuple[float, str]]:
    """Own (tottime) seconds per source file, largest first."""
    per: dict[str, float] = defaultdict(float)
    for (path, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        per[path.split("site-packages/")[-1]] += tottime
    return sorted(((s, f) for f, s in per.items()), reverse=True)[:top]


def main(argv: list[str]) -> int:
    history, freq, horizon = Path(argv[0]), argv[1], int(argv[2])
    out = Path(argv[3]) if len(argv) > 3 else Path("/dev/null")
    phases: list[tuple[str, float]] = []
    began, mark = time.perf_counter(), _cpu()

    def phase(name: str) -> None:
        nonlocal mark
        now = _cpu()
        phases.append((name, now - mark))
        mark = now

    import ml.engine  # noqa: F401  (forecast_history imports it on first use; counted here)
    import orchestration.cli  # noqa: F401  (what the command's process imports first)
    from ml import forecast_file as ff

    phase("imports (CLI + ml, sklearn, pandas)")
    frame = ff.read_history(history)
    phase("read + validate the CSV")
    frame, rule, _, _ = ff.fill_gaps(frame, freq)
    phase("fill gaps")
    profile = cProfile.Profile()
    result = profile.runcall(ff.forecast_history, frame, freq, horizon, rule)
    phase("forecast (cProfile on)")
    result.forecasts.to_csv(out, index=False)
    phase("write the CSV")
    total = sum(s for _, s in phases)
    print(f"forecast-file {freq} {horizon}: {total:.2f} CPU s, {time.perf_counter() - began:.1f} s")
    for name, seconds in phases:
        print(f"  {name}: {seconds:.2f} CPU s")
    print("forecast phase, own seconds per file (cProfile):")
    for seconds, path in _by_file(pstats.Stats(profile), 15):
        print(f"  {seconds:6.2f}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
