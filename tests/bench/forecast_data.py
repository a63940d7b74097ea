"""Data sets of ``make bench-forecast``: the replay city, real Chicago homicides, stress cases.

Every case is long counts in the mart's shape (period_start, freq, geo_level, geo, incidents,
is_complete_period) plus the origins to evaluate: the final years are held out and each
origin forecasts one whole year at once (the issue's "year-ahead" question). A case's origins
are a year apart and their held-out years do not overlap, so each block (series x origin) of
the uncertainty columns holds different errors. Per frequency the origins are aligned: the
month ending June (December) as the monthly origin, the week holding its last Monday as the
weekly one; daily origins are spaced 366 days so the 366-day hold-outs do not touch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tests.bench.proc import REPO

# Read from the shared folder next to the repository, as CI lays it out (never edited; counts
# derived here). BLOTTER_REAL_DATA_DIR points elsewhere, e.g. from a git worktree.
REAL_DATA = Path(os.environ.get("BLOTTER_REAL_DATA_DIR") or REPO.parent / "shared" / "real_data")
CHICAGO = REAL_DATA / "chicago_ijzp-q8t2_homicides_2001_2023.csv"
YEAR = {"daily": 366, "weekly": 52, "monthly": 12}
ALL = ("*",)
# Levels each peer is fitted on unless a case overrides it.
PEER_LEVELS = {
    "auto_ets": ALL,
    "auto_theta": ALL,
    "auto_arima": ("city",),
    "sf_seasonal_naive": ALL,
    "prophet": ALL,
}


@dataclass
class Case:
    """One benchmark data set.

    Attributes:
        name: Label in the table.
        counts: Long counts of every frequency (mart shape; every period complete).
        origins: Per frequency, the last training period of each year-ahead forecast.
        peer_levels: Per frequency, overrides of ``PEER_LEVELS`` (cost control:
            statsforecast fits one series at a time; AutoARIMA with a 52-week season takes
            ~30 s per series here). A level a peer is not fitted on shows "n/a".
    """

    name: str
    counts: pd.DataFrame
    origins: dict[str, list[pd.Timestamp]]
    peer_levels: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)


def _stamps(*days: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(d) for d in days]


def to_mart(daily: pd.DataFrame, freqs: tuple[str, ...]) -> pd.DataFrame:
    """Daily counts (day, geo_level, geo, n) -> mart rows of ``freqs``; partial tails dropped."""
    last = daily["day"].max()
    out = []
    for freq in freqs:
        if freq == "daily":
            start, end = daily["day"], daily["day"]
        elif freq == "weekly":
            start = daily["day"] - pd.to_timedelta(daily["day"].dt.day_of_week, unit="D")
            end = start + pd.Timedelta(days=6)
        else:
            start = daily["day"].dt.to_period("M").dt.start_time
            end = start + pd.offsets.MonthEnd(0)
        frame = daily.assign(period_start=start, complete=end <= last)
        frame = frame[frame["complete"]]
        agg = frame.groupby(["period_start", "geo_level", "geo"], as_index=False)["n"].sum()
        out.append(agg.rename(columns={"n": "incidents"}).assign(freq=freq))
    counts = pd.concat(out, ignore_index=True)
    return counts.assign(is_complete_period=True)


def _dense(day: pd.Series, areas: dict[str, pd.Series], first: str, last: str) -> pd.DataFrame:
    """Zero-filled daily counts per level (city plus each area column)."""
    days = pd.date_range(first, last, freq="D")
    parts = [
        day.value_counts().reindex(days, fill_value=0).rename_axis("day").reset_index(name="n")
        .assign(geo_level="city", geo="City")
    ]  # fmt: skip
    for level, values in areas.items():
        table = pd.crosstab(day, values).reindex(days, fill_value=0)
        long = table.stack().rename("n").reset_index()
        long.columns = ["day", "geo", "n"]
        parts.append(long.assign(geo_level=level))
    return pd.concat(parts, ignore_index=True)


def replay_city() -> Case:
    """The replay API's synthetic city, 2019-01 .. 2025-06, the final three years held out.

    Origins 2022-06, 2023-06 and 2024-06. Blotter's training window (3 years of days, 5 of
    weeks, 10 of months) is full at every daily origin; weekly it gets 3.5 / 4.5 / 5 years,
    monthly 3.5 / 4.5 / 5.5 years (all the data there is).
    """
    from replay import city, geo

    first, last = "2019-01-01", "2025-06-30"
    inc = city.generate(date.fromisoformat(first), date.fromisoformat(last))
    names = np.array([a[0] for a in geo.NEIGHBORHOODS])
    police = {a[0]: a[1] for a in geo.NEIGHBORHOODS}
    day = pd.Series(pd.to_datetime(inc.day, unit="D"))
    nb = pd.Series(names[inc.area])
    areas = {"police_district": nb.map(police), "neighborhood": nb}
    counts = to_mart(_dense(day, areas, first, last), ("daily", "weekly", "monthly"))
    # Daily: the last 366 days end on the data's last day; earlier origins 366 days apart.
    origins = {
        "daily": _stamps("2022-06-28", "2023-06-29", "2024-06-29"),
        "weekly": _stamps("2022-06-27", "2023-06-26", "2024-06-24"),
        "monthly": _stamps("2022-06-01", "2023-06-01", "2024-06-01"),
    }
    # Daily statsforecast fits take 1-20 s per series: the city and its police districts.
    daily = ("city", "police_district")
    peers = {
        "daily": {
            "auto_ets": daily,
            "auto_theta": daily,
            "auto_arima": ("city",),
            "prophet": daily,
        },
        "monthly": {"auto_arima": ("city", "police_district")},
    }
    return Case("replay city", counts, origins, peers)


def chicago() -> Case:
    """Real Chicago homicides 2001 .. 2023-07 (one row per victim), city and districts.

    Held out: the four final years, each forecast a year ahead from the end of June 2019,
    2020 (the year 2020's abrupt changes begin), 2021 and 2022.
    """
    raw = pd.read_csv(CHICAGO, usecols=["ID", "Date", "District"], dtype=str)
    when = pd.to_datetime(raw["Date"], format="%m/%d/%Y %I:%M:%S %p")
    day = when.dt.normalize()
    district = pd.to_numeric(raw["District"], errors="coerce")
    district = district.map(lambda v: "UNKNOWN" if pd.isna(v) else f"{int(v):03d}")
    last = day.max().strftime("%Y-%m-%d")
    counts = to_mart(_dense(day, {"district": district}, "2001-01-01", last), ("weekly", "monthly"))
    origins = {
        "weekly": _stamps("2019-06-24", "2020-06-29", "2021-06-28", "2022-06-27"),
        "monthly": _stamps("2019-06-01", "2020-06-01", "2021-06-01", "2022-06-01"),
    }
    peers = {"monthly": {"auto_arima": ALL}}
    return Case("Chicago homicides", counts, origins, peers)


def _synthetic(seed: int, days: pd.DatetimeIndex, mus: dict[str, np.ndarray]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for geo, mu in mus.items():
        lam = mu * rng.gamma(20, 1 / 20, size=len(days))
        parts.append(pd.DataFrame({"day": days, "geo": geo, "n": rng.poisson(lam)}))
    areas = pd.concat(parts, ignore_index=True).assign(geo_level="area")
    city = areas.groupby("day", as_index=False)["n"].sum().assign(geo_level="city", geo="City")
    return pd.concat([city, areas], ignore_index=True)


STRESS_DAYS = pd.date_range("2017-01-01", "2024-12-31", freq="D")


def stress_means(days: pd.DatetimeIndex = STRESS_DAYS) -> dict[str, dict[str, np.ndarray]]:
    """Per stress case and area, the expected count of every day (the generator's truth:
    ``_synthetic`` draws around it), so a study can score forecasts without the noise."""
    t = np.arange(len(days)) / 365.25
    season = 1 + 0.25 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 100) / 365.25)
    weekday = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.2, 1.05])[days.day_of_week]
    base = season * weekday
    after = lambda d: (days >= pd.Timestamp(d)).astype(float)  # noqa: E731
    return {
        "trend -8 %/year": {f"A{k}": (2 + k) * base * 0.92**t for k in range(4)},
        "level shift -40 %": {
            f"A{k}": (2 + k) * base * (1 - 0.4 * after("2023-09-01")) for k in range(4)
        },
        "new geography": {f"A{k}": (2 + k) * base for k in range(3)}
        | {"NEW": 3 * base * after("2022-10-01")},
        "geography stops": {f"A{k}": (2 + k) * base for k in range(3)}
        | {"GONE": 3 * base * (1 - after("2023-06-01"))},
    }


def stress_cases() -> list[Case]:
    """Synthetic trend, level shift, new and discontinued geographies (weekly, monthly)."""
    cases = []
    for seed, (name, mus) in enumerate(stress_means().items()):
        counts = to_mart(_synthetic(seed, STRESS_DAYS, mus), ("weekly", "monthly"))
        # Three year-ahead origins: before the new geography (2022-10), before and after the
        # 2023 events (shift, stop).
        origins = {
            "weekly": _stamps("2021-12-27", "2022-12-26", "2023-12-25"),
            "monthly": _stamps("2021-12-01", "2022-12-01", "2023-12-01"),
        }
        cases.append(Case(f"stress: {name}", counts, origins, {"weekly": {"auto_arima": ()}}))
    return cases


def exists(path: Path = CHICAGO) -> bool:
    """Whether the real Chicago sample is where CI puts it (../shared/real_data)."""
    return path.exists()
