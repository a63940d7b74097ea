"""Bring-your-own-history forecasts: CSV in (period_start, geo_level, geo, incidents), CSV out.

Input problems raise ``ForecastInputError`` with one line naming the problem and the first
offending line of the file (line 1 is the header). The output continues the input's own grid:
days, weeks on the input's weekday, months on its day-of-month rule.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ml.config import FREQS, MAX_HORIZON, ForecastConfig
from ml.panel import build_panel, future_periods, grid_between, month_rule_of
from ml.warehouse import TABLES

if TYPE_CHECKING:
    from ml.engine import FreqResult

REQUIRED = ["period_start", "geo_level", "geo", "incidents"]


class ForecastInputError(ValueError):
    """Bad forecast-file input (message is one line)."""


def _line(frame: pd.DataFrame, mask: pd.Series) -> tuple[int, pd.Series]:
    """File line number (header = 1) and row of the first True in ``mask``."""
    pos = int(mask.to_numpy().nonzero()[0][0])
    return pos + 2, frame.iloc[pos]


def check_request(freq: str, horizon: int) -> None:
    """Validate the frequency and horizon."""
    if freq not in FREQS:
        raise ForecastInputError(f"--freq must be one of {', '.join(FREQS)}, got {freq!r}")
    if not 1 <= horizon <= MAX_HORIZON[freq]:
        raise ForecastInputError(
            f"--horizon must be between 1 and {MAX_HORIZON[freq]} for {freq}, got {horizon}"
        )


def read_history(path: Path) -> pd.DataFrame:
    """Read and validate a history CSV (no grid checks; see ``check_grid``)."""
    try:
        if path.stat().st_size == 0:
            raise ForecastInputError(f"{path} is empty")
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except ForecastInputError:
        raise
    except FileNotFoundError:
        raise ForecastInputError(f"history file {path} does not exist") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ForecastInputError(f"cannot read {path} as CSV: {first}") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ForecastInputError(f"{path} is missing column(s): {', '.join(missing)}")
    if raw.empty:
        raise ForecastInputError(f"{path} has a header but no rows")
    frame = raw[REQUIRED].apply(lambda col: col.str.strip())
    for col in ("geo_level", "geo"):
        if (frame[col] == "").any():
            line, _ = _line(frame, frame[col] == "")
            raise ForecastInputError(f"empty {col} on line {line}")
    dates = pd.to_datetime(frame["period_start"], errors="coerce", format="ISO8601")
    bad = dates.isna() | (dates.dt.normalize() != dates)
    if bad.any():
        line, row = _line(frame, bad)
        raise ForecastInputError(
            f"unparsable period_start {row['period_start']!r} on line {line} (expected YYYY-MM-DD)"
        )
    counts = pd.to_numeric(frame["incidents"], errors="coerce")
    bad = counts.isna() | (counts != counts.round())
    if bad.any():
        line, row = _line(frame, bad)
        raise ForecastInputError(
            f"incidents must be whole numbers: {row['incidents']!r} on line {line}"
        )
    if (counts < 0).any():
        line, row = _line(frame, counts < 0)
        raise ForecastInputError(f"negative incidents {row['incidents']} on line {line}")
    frame = frame.assign(period_start=dates, incidents=counts.astype("float64"))
    dup = frame.duplicated(["period_start", "geo_level", "geo"])
    if dup.any():
        line, row = _line(frame, dup)
        raise ForecastInputError(
            f"duplicate key ({row['period_start']:%Y-%m-%d}, {row['geo_level']}, {row['geo']}) "
            f"on line {line}"
        )
    return frame


def grid_rule(frame: pd.DataFrame, freq: str) -> str | int:
    """The input's grid rule: weeks on one weekday, months on one day-of-month rule."""
    dates = pd.DatetimeIndex(frame["period_start"].unique())
    rule: str | int = "month_start"
    if freq == "weekly" and dates.day_of_week.nunique() > 1:
        raise ForecastInputError("weekly period_start values fall on different weekdays")
    if freq == "monthly":
        found = month_rule_of(dates)
        if found is None:
            raise ForecastInputError(
                "monthly period_start values follow no single day-of-month rule (use month starts)"
            )
        rule = found
    return rule


def _off_grid(periods: pd.DatetimeIndex, freq: str, rule: str | int) -> pd.Timestamp | None:
    """The first period that is not on the grid started by ``periods[0]`` (None if all are)."""
    grid = grid_between(periods[0], periods[-1], freq, rule)
    off = periods.difference(grid)
    return off[0] if len(off) else None


def check_grid(frame: pd.DataFrame, freq: str) -> str | int:
    """Strict mode: every series gap-free on one shared grid up to the last period."""
    rule = grid_rule(frame, freq)
    last = frame["period_start"].max()
    for (level, geo), group in frame.sort_values("period_start").groupby(
        ["geo_level", "geo"], sort=True
    ):
        periods = pd.DatetimeIndex(group["period_start"])
        expected = future_periods(periods[0], freq, len(periods) - 1, rule)
        mismatch = periods[1:] != expected
        if mismatch.any():
            k = int(mismatch.nonzero()[0][0])
            raise ForecastInputError(
                f"gap in series {level}/{geo}: {periods[k]:%Y-%m-%d} is followed by "
                f"{periods[k + 1]:%Y-%m-%d}, expected {expected[k]:%Y-%m-%d} "
                "(drop --strict to count missing periods as 0)"
            )
        if periods[-1] != last:
            raise ForecastInputError(
                f"series {level}/{geo} ends on {periods[-1]:%Y-%m-%d} but the history ends on "
                f"{last:%Y-%m-%d}: every series must run to the last period "
                "(drop --strict to count missing periods as 0)"
            )
    return rule


def fill_gaps(frame: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, str | int, int, int]:
    """Count missing periods as 0 incidents, as exports of incident counts omit them.

    Each series is filled from its first period to the history's last one (a series that
    stops reporting counts as zero from then on). Periods before a series' first row stay
    absent: a new geography starts at its first incident.

    Returns:
        The filled frame, the grid rule, the number of rows added and of series touched.
    """
    rule = grid_rule(frame, freq)
    last = frame["period_start"].max()
    parts, added, touched = [], 0, 0
    for (level, geo), group in frame.groupby(["geo_level", "geo"], sort=True):
        periods = pd.DatetimeIndex(group["period_start"]).sort_values()
        stray = _off_grid(periods, freq, rule)
        if stray is not None:
            raise ForecastInputError(
                f"series {level}/{geo}: {stray:%Y-%m-%d} is not on the {freq} grid that starts "
                f"{periods[0]:%Y-%m-%d}"
            )
        grid = grid_between(periods[0], last, freq, rule)
        missing = grid.difference(periods)
        if len(missing):
            added += len(missing)
            touched += 1
            parts.append(
                pd.DataFrame(
                    {"period_start": missing, "geo_level": level, "geo": geo, "incidents": 0.0}
                )
            )
    if parts:
        frame = pd.concat([frame, *parts], ignore_index=True)
    return frame, rule, added, touched


def forecast_history(
    frame: pd.DataFrame, freq: str, horizon: int, rule: str | int = "month_start"
) -> FreqResult:
    """Forecast a validated history (deterministic)."""
    # Here, not at the top: the engine's imports (sklearn, scipy, statsforecast; ~3 CPU s) are
    # paid only once the file has been read and checked, not by a mistake found before.
    from ml.engine import forecast_panel

    config = ForecastConfig(horizons={freq: horizon})
    panel = build_panel(frame, freq, month_rule=rule)
    return forecast_panel(panel, config, horizon)


def forecast_file(
    history: Path,
    freq: str,
    horizon: int,
    out: Path,
    now: datetime | None = None,
    strict: bool = False,
) -> FreqResult:
    """Validate ``history``, forecast ``horizon`` periods and write the ml.forecasts columns.

    Missing periods count as 0 incidents (``fill_gaps``; reported in ``result.notes``);
    ``strict`` refuses them instead.
    """
    check_request(freq, horizon)
    frame = read_history(history)
    if strict:
        rule, added, touched = check_grid(frame, freq), 0, 0
    else:
        frame, rule, added, touched = fill_gaps(frame, freq)
    result = forecast_history(frame, freq, horizon, rule)
    result.filled = added
    if added:
        result.notes.append(
            f"counted {added:,} missing period(s) in {touched:,} series as 0 incidents"
        )
    from ml.engine import FORECAST_COLUMNS

    digest = hashlib.sha256(history.read_bytes()).hexdigest()[:12]
    now = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    table = result.forecasts[FORECAST_COLUMNS].assign(
        forecast_run_id=f"file-{digest}-{freq}-{horizon}",
        model_version=f"{ForecastConfig(horizons={freq: horizon}).model_version}:{result.method}",
        created_at=now.isoformat(),
        period_start=pd.to_datetime(result.forecasts["period_start"]).dt.strftime("%Y-%m-%d"),
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        table[list(TABLES["forecasts"])].to_csv(out, index=False)
    except OSError as exc:
        raise ForecastInputError(f"cannot write {out}: {exc.strerror or exc}") from None
    return result
