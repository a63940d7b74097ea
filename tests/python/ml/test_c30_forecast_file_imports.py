"""``forecast-file`` checks the user's file before it imports the forecast engine.

A wrong path, a missing column or a bad count is found in ~1 CPU s; the engine's imports
(sklearn, scipy, statsforecast; ~3 CPU s) are paid only by a file that will be forecast.
"""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
from pathlib import Path
from ml.forecast_file import ForecastInputError, forecast_file
try:
    forecast_file(Path(sys.argv[1]), "weekly", 4, Path(sys.argv[2]))
except ForecastInputError as exc:
    print("refused:", exc)
print("engine imported:", "ml.engine" in sys.modules, "sklearn" in sys.modules)
"""


def _run(history: str, out: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, history, out], capture_output=True, text=True, check=True
    ).stdout


def test_a_bad_file_is_refused_before_the_engine_is_imported(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("geo_level,geo_id,period_start,incident_count\ncity,city,2020-01-06,x\n")
    out = _run(str(bad), str(tmp_path / "out.csv"))
    assert "refused:" in out
    assert "engine imported: False False" in out
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_file_is_refused_before_the_engine_is_imported(tmp_path) -> None:
    out = _run(str(tmp_path / "nope.csv"), str(tmp_path / "out.csv"))
    assert "refused:" in out
    assert "engine imported: False False" in out
