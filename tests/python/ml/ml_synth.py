"""Replay-like synthetic incident counts (the shape of marts.fct_incident_counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def daily_neighbourhood_counts(
    start: str = "2015-01-01",
    end: str = "2024-12-31",
    n_neighbourhoods: int = 12,
    base: float = 3.0,
    shift_at: str | None = None,
    shift_factor: float = 0.55,
    seed: int = 7,
) -> pd.DataFrame:
    """Daily counts per neighbourhood: weekday + yearly seasonality, trend, holidays, noise."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end, freq="D")
    t = np.arange(len(days))
    weekday = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.2, 1.05])[days.day_of_week]
    yearly = 1 + 0.25 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 100) / 365.25)
    trend = 1 - 0.2 * t / len(days)
    holiday = np.where((days.month == 12) & (days.day == 25), 0.6, 1.0)
    shift = np.ones(len(days))
    if shift_at:
        shift = np.where(days >= pd.Timestamp(shift_at), shift_factor, 1.0)
    frames = []
    for k in range(n_neighbourhoods):
        scale = base * rng.uniform(0.3, 2.5)
        mu = scale * weekday * yearly * trend * holiday * shift
        lam = mu * rng.gamma(20, 1 / 20, size=len(days))  # mild overdispersion
        frames.append(pd.DataFrame({"day": days, "nb": f"NB{k:02d}", "n": rng.poisson(lam)}))
    return pd.concat(frames, ignore_index=True)


def fct_incident_counts(
    daily: pd.DataFrame,
    partial_last: bool = True,
    police: dict[str, str] | None = None,
    council: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Aggregate neighbourhood days into the mart's freq x geo_level x geo grain."""
    nbs = sorted(daily["nb"].unique())
    police = police or {nb: f"District {'ABCDE'[i % 5]}" for i, nb in enumerate(nbs)}
    council = council or {
        nb: ["NORTH", "SOUTH", "MASTEN", "DELAWARE"][i % 4] for i, nb in enumerate(nbs)
    }
    geo = pd.concat(
        [
            daily.assign(geo_level="city", geo="Buffalo"),
            daily.assign(geo_level="police_district", geo=daily["nb"].map(police)),
            daily.assign(geo_level="council_district", geo=daily["nb"].map(council)),
            daily.assign(geo_level="neighborhood", geo=daily["nb"]),
        ]
    )
    last_day = daily["day"].max()
    out = []
    for freq, key in (
        ("daily", geo["day"]),
        ("weekly", geo["day"] - pd.to_timedelta(geo["day"].dt.day_of_week, unit="D")),
        ("monthly", geo["day"].dt.to_period("M").dt.start_time),
    ):
        agg = (
            geo.assign(period_start=key)
            .groupby(["period_start", "geo_level", "geo"], as_index=False)["n"]
            .sum()
            .rename(columns={"n": "incidents"})
        )
        if freq == "daily":
            ends = agg["period_start"]
        elif freq == "weekly":
            ends = agg["period_start"] + pd.Timedelta(days=6)
        else:
            ends = agg["period_start"] + pd.offsets.MonthEnd(0)
        agg["is_complete_period"] = (ends <= last_day) if partial_last else True
        agg["freq"] = freq
        out.append(agg)
    frame = pd.concat(out, ignore_index=True)
    frame["period_start"] = frame["period_start"].dt.date
    frame["incidents"] = frame["incidents"].astype("int64")
    return frame[["period_start", "freq", "geo_level", "geo", "incidents", "is_complete_period"]]


def replay_city_counts(first: str, last: str) -> pd.DataFrame:
    """The replay API's own synthetic city (replay.city), counted like the mart.

    Uses the same deterministic generator the demo source serves, so accuracy measured here
    is accuracy on the replay data (minus the ingestion/dbt round trip).
    """
    from datetime import date

    from replay import city, geo

    inc = city.generate(date.fromisoformat(first), date.fromisoformat(last))
    areas = np.array([a[0] for a in geo.NEIGHBORHOODS])
    police = {a[0]: a[1] for a in geo.NEIGHBORHOODS}
    council = {a[0]: a[2] for a in geo.NEIGHBORHOODS}
    days = pd.to_datetime(inc.day, unit="D")
    nb = pd.Series(areas[inc.area])
    daily = pd.DataFrame({"day": days, "nb": nb}).groupby(["day", "nb"]).size()
    grid = pd.MultiIndex.from_product(
        [pd.date_range(first, last, freq="D"), sorted(set(areas))], names=["day", "nb"]
    )
    daily = daily.reindex(grid, fill_value=0).rename("n").reset_index()
    return fct_incident_counts(daily, police=police, council=council)
