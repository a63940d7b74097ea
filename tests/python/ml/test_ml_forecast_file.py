"""``blotter forecast-file``: happy paths on several grids and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from orchestration.cli import app

BOUNDS = ["yhat_lower_95", "yhat_lower_80", "yhat", "yhat_upper_80", "yhat_upper_95"]
COLUMNS = [
    "forecast_run_id", "model_version", "freq", "geo_level", "geo", "period_start",
    *["yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"],
    "created_at",
]  # fmt: skip


def history(freq: str, n: int, start: str = "2022-01-03") -> pd.DataFrame:
    step = {"daily": "D", "weekly": "7D", "monthly": "MS"}[freq]
    periods = pd.date_range(start, periods=n, freq=step)
    rows = []
    for geo, base in (("North", 5), ("South", 9)):
        for i, day in enumerate(periods):
            rows.append((day.date().isoformat(), "police_district", geo, base + (i * 7) % 5))
    return pd.DataFrame(rows, columns=["period_start", "geo_level", "geo", "incidents"])


def run(*args: str):
    return CliRunner().invoke(app, ["forecast-file", *args])


@pytest.mark.parametrize(
    ("freq", "n", "start", "horizon", "first"),
    [
        ("daily", 500, "2022-01-03", 28, "2023-05-18"),
        ("weekly", 120, "2022-01-05", 53, "2024-04-24"),  # Wednesday weeks stay Wednesdays
        ("monthly", 40, "2020-01-01", 12, "2023-05-01"),
        ("daily", 3, "2024-02-27", 366, "2024-03-01"),  # tiny history: graceful fallback
    ],
)
def test_happy_path_continues_the_input_grid(
    tmp_path: Path, freq: str, n: int, start: str, horizon: int, first: str
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out" / "f.csv"
    history(freq, n, start).to_csv(src, index=False)
    result = run(
        "--history", str(src), "--freq", freq, "--horizon", str(horizon), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 2 * horizon
    assert frame["period_start"].min() == first
    assert (frame[BOUNDS].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert (frame["yhat_lower_95"] >= 0).all()
    if freq == "weekly":
        assert set(pd.to_datetime(frame["period_start"]).dt.day_of_week) == {2}


def test_same_file_same_forecasts(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    history("daily", 400).to_csv(src, index=False)
    outs = []
    for name in ("a.csv", "b.csv"):
        assert run("--history", str(src), "--freq", "daily", "--horizon", "28",
                   "--out", str(tmp_path / name)).exit_code == 0  # fmt: skip
        outs.append(pd.read_csv(tmp_path / name).drop(columns="created_at"))
    pd.testing.assert_frame_equal(*outs)


def _bad(frame: pd.DataFrame, drop: list[int] | None = None) -> str:
    return frame.drop(index=drop or []).to_csv(index=False)


GOOD = history("daily", 30)
CASES = {
    "missing column": (GOOD.drop(columns="incidents").to_csv(index=False), "missing column"),
    "negative": (GOOD.assign(incidents=GOOD["incidents"].where(GOOD.index != 5, -1)).to_csv(
        index=False), "negative incidents"),
    "not a number": (GOOD.astype(str).assign(incidents=lambda f: f["incidents"].where(
        f.index != 3, "lots")).to_csv(index=False), "whole numbers"),
    "duplicate": (pd.concat([GOOD, GOOD.iloc[[4]]]).to_csv(index=False), "duplicate key"),
    "bad date": (GOOD.astype(str).assign(period_start=lambda f: f["period_start"].where(
        f.index != 2, "03/01/2022")).to_csv(index=False), "unparsable period_start"),
    "empty file": ("", "is empty"),
    "header only": ("period_start,geo_level,geo,incidents\n", "no rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2(tmp_path: Path, case: str) -> None:
    text, needle = CASES[case]
    src = tmp_path / "in.csv"
    src.write_text(text)
    result = run("--history", str(src), "--freq", "daily", "--horizon", "7",
                 "--out", str(tmp_path / "o.csv"))  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()


def test_missing_periods_count_as_zero_and_strict_refuses(tmp_path: Path) -> None:
    """Exports omit periods without incidents (14): filled inside each series, reported;
    ``--strict`` keeps the old refusal."""
    weekly = history("weekly", 30)
    gaps = weekly.drop(index=[5, 6, 40, 59])  # North: 2 weeks, South: a week and its last one
    src, out = tmp_path / "in.csv", tmp_path / "o.csv"
    gaps.to_csv(src, index=False)
    args = ("--history", str(src), "--freq", "weekly", "--horizon", "4", "--out", str(out))
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    assert "counted 4 missing period(s) in 2 series as 0 incidents" in result.stdout
    assert '"filled": 4' in result.stdout
    frame = pd.read_csv(out)
    assert len(frame) == 2 * 4 and frame["period_start"].min() == "2022-08-01"
    strict = run(*args, "--strict")
    assert strict.exit_code == 2 and not out.with_name("x").exists()
    lines = strict.stderr.strip().splitlines()
    assert len(lines) == 1 and "gap in series police_district/North" in lines[0]
    assert "2022-01-31 is followed by 2022-02-21" in lines[0]
    # A series whose last periods are missing (no incidents at the end) is filled to the end.
    tail = weekly.drop(index=[59])
    tail.to_csv(src, index=False)
    assert run(*args).exit_code == 0
    refused = run(*args, "--strict")
    assert refused.exit_code == 2 and "South ends on 2022-07-18" in refused.stderr


@pytest.mark.parametrize(
    ("freq", "horizon", "needle"),
    [("daily", "367", "between 1 and 366"), ("weekly", "0", "between 1 and 53"),
     ("monthly", "13", "between 1 and 12"), ("hourly", "3", "--freq must be"),
     ("daily", "ten", "whole number")],
)  # fmt: skip
def test_bad_request_is_one_line_exit_2(tmp_path: Path, freq: str, horizon: str, needle: str):
    src = tmp_path / "in.csv"
    GOOD.to_csv(src, index=False)
    result = run("--history", str(src), "--freq", freq, "--horizon", horizon,
                 "--out", str(tmp_path / "o.csv"))  # fmt: skip
    assert result.exit_code == 2 and needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_real_process_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    weekly = history("weekly", 20)
    weekly.loc[3, "period_start"] = "2022-01-25"  # a Tuesday among Mondays
    weekly.to_csv(src, index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "forecast-file", "--history", str(src),
         "--freq", "weekly", "--horizon", "4", "--out", str(tmp_path / "o.csv")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: weekly period_start values fall on different weekdays"
    ]
