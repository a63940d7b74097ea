"""Deterministic, vectorised generator of the synthetic city's incidents.

Every random draw is a counter-based hash of (day, index within the day, stream), so the
incidents of a given day are identical whatever the history start or the as-of date: the as-of
only decides which records (and which of their versions) have been published yet.

Each incident has an original version and, for some, one later revision (a reclassification,
or geography / coordinates filled in) that moves ``:updated_at`` but not ``:created_at``.

Environment variables read here: none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from replay import geo

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR
TIMEZONE = "America/New_York"
BASE_DAILY = 48.0  # city-wide incidents a day in 2015, before seasonality
TREND_PER_YEAR = 0.975  # a mild decline, like the real series
UPDATE_SHARE = 0.15
MISSING_GEO_SHARE = 0.02
MISSING_COORD_SHARE = 0.025
MAX_PER_DAY = 9999  # case numbers carry a 4-digit sequence

# Update kinds (``update_kind``): 0 none, 1 reclassified, 2 geography filled, 3 coordinates filled.
# Geography state (``geo_state``): 0 known, 1 'UNKNOWN' values, 2 keys omitted.
# Coordinate state (``coord_state``): 0 known, 1 'UNKNOWN' sentinel, 2 keys omitted.


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fast, well-mixed 64-bit hash (wrapping uint64 arithmetic)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniform(keys: np.ndarray, stream: int) -> np.ndarray:
    """Uniform [0, 1) floats, one per key, independent across streams."""
    salt = _mix(np.array([stream], dtype=np.uint64))[0]
    return (_mix(keys ^ salt) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def normal(keys: np.ndarray, stream: int) -> np.ndarray:
    """Standard normal draws (Box-Muller on two hashed uniforms)."""
    u1 = 1.0 - uniform(keys, stream)
    u2 = uniform(keys, stream + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _choice(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Categorical codes drawn by inverse CDF from uniforms ``u``."""
    cdf = np.cumsum(weights) / np.sum(weights)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(weights) - 1)


def _poisson(lam: np.ndarray, u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Poisson counts by inverse CDF (normal approximation for large means)."""
    out = np.zeros(len(lam), dtype=np.int64)
    small = lam < 200
    if small.any():
        ls, us = lam[small], u[small]
        p = np.exp(-ls)
        cdf = p.copy()
        k = np.zeros(len(ls), dtype=np.int64)
        for i in range(1, int(ls.max() + 12 * np.sqrt(ls.max()) + 20)):
            going = us > cdf
            if not going.any():
                break
            k[going] = i
            p = p * ls / i
            cdf = cdf + p
        out[small] = k
    if (~small).any():
        big = lam[~small]
        out[~small] = np.round(big + np.sqrt(big) * z[~small]).astype(np.int64)
    return np.clip(out, 0, MAX_PER_DAY)


def daily_mean(days: np.ndarray, scale: float) -> np.ndarray:
    """Expected incidents per day: level × trend × yearly and weekly seasonality × scale."""
    d = days.astype("datetime64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    doy = (d - d.astype("datetime64[Y]")).astype(np.int64)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    yearly = 1.0 + 0.22 * np.cos(2.0 * np.pi * (doy - 196) / 365.25)
    weekly = np.asarray(geo.WEEKDAY_FACTORS)[weekday]
    trend = TREND_PER_YEAR ** (years - 2015 + doy / 365.25)
    return BASE_DAILY * trend * yearly * weekly * scale


def local_to_utc_ms(local_ms: np.ndarray) -> np.ndarray:
    """Convert Buffalo wall-clock epoch milliseconds to UTC epoch milliseconds (DST-aware)."""
    idx = pd.DatetimeIndex(local_ms.astype("datetime64[ms]"))
    utc = idx.tz_localize(
        TIMEZONE, ambiguous=np.zeros(len(idx), dtype=bool), nonexistent="shift_forward"
    ).tz_convert("UTC")
    return utc.tz_localize(None).to_numpy().astype("datetime64[ms]").astype(np.int64)


@dataclass
class Incidents:
    """Columnar incidents (both versions) for every day in a range; codes index the geo tables."""

    key: np.ndarray  # uint64 (day << 20 | index), the seed of every draw
    day: np.ndarray  # int64 days since epoch
    seq: np.ndarray  # index within the day
    row_id: np.ndarray  # uint64 < 2**60, rendered as the hex ``:id``
    occurred: np.ndarray  # local epoch ms
    created_local: np.ndarray  # local epoch ms (user column ``created_at``)
    created_utc: np.ndarray  # UTC epoch ms (``:created_at``)
    updated_utc: np.ndarray  # UTC epoch ms of the revision (== created_utc when none)
    update_kind: np.ndarray
    area: np.ndarray  # neighbourhood code
    type_final: np.ndarray
    type_orig: np.ndarray
    geo_state: np.ndarray  # of the final version
    coord_state: np.ndarray
    lat_milli: np.ndarray  # latitude × 1000 (int)
    lon_milli: np.ndarray
    street: np.ndarray
    cross: np.ndarray  # cross street, or -1 for a block address
    block: np.ndarray
    tract: np.ndarray
    block_group: np.ndarray
    census_block: np.ndarray

    def __len__(self) -> int:
        return len(self.key)


def generate(first: date, last: date, scale: float = 1.0) -> Incidents:
    """Generate every incident that occurred from ``first`` to ``last`` (inclusive)."""
    epoch = date(1970, 1, 1)
    days = np.arange((first - epoch).days, (last - epoch).days + 1, dtype=np.int64)
    day_keys = _mix(days.astype(np.uint64) * np.uint64(0x2545F4914F6CDD1D))
    counts = _poisson(daily_mean(days, scale), uniform(day_keys, 1), normal(day_keys, 2))
    n = int(counts.sum())
    day = np.repeat(days, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    seq = np.arange(n, dtype=np.int64) - starts
    key = (day.astype(np.uint64) << np.uint64(20)) | seq.astype(np.uint64)

    area_w = np.array([a[3] for a in geo.NEIGHBORHOODS])
    area = _choice(uniform(key, 10), area_w)
    type_final = _choice(uniform(key, 11), np.array([t[2] for t in geo.TYPES]))
    hour = _choice(uniform(key, 12), np.asarray(geo.HOUR_WEIGHTS, dtype=float))
    minute = np.where(uniform(key, 13) < 0.3, 0, (uniform(key, 14) * 60).astype(np.int64))
    occurred = day * MS_PER_DAY + hour * MS_PER_HOUR + minute * 60_000
    lag_hours = 2.0 + 70.0 * uniform(key, 15) ** 2  # publication lag: hours .. 3 days
    created_local = occurred + (lag_hours * MS_PER_HOUR).astype(np.int64) // 60_000 * 60_000
    created_utc = local_to_utc_ms(created_local)

    u_upd = uniform(key, 16)
    update_kind = np.where(
        u_upd < UPDATE_SHARE * 0.5,
        1,
        np.where(u_upd < UPDATE_SHARE * 0.85, 2, np.where(u_upd < UPDATE_SHARE, 3, 0)),
    )
    delay_days = 1.0 + 20.0 * uniform(key, 17) ** 2
    delay_ms = (delay_days * MS_PER_DAY).astype(np.int64) // 1000 * 1000
    updated_utc = np.where(update_kind > 0, created_utc + delay_ms, created_utc)
    type_orig = np.where(update_kind == 1, np.asarray(geo.RECLASSIFY_TO)[type_final], type_final)

    u_geo = uniform(key, 18)
    geo_state = np.where(
        u_geo < MISSING_GEO_SHARE * 0.5, 1, np.where(u_geo < MISSING_GEO_SHARE, 2, 0)
    )
    geo_state[update_kind == 2] = 0  # filled by the revision
    u_co = uniform(key, 19)
    coord_state = np.where(
        u_co < MISSING_COORD_SHARE * 0.7, 1, np.where(u_co < MISSING_COORD_SHARE, 2, 0)
    )
    coord_state[update_kind == 3] = 0

    lat0 = np.array([a[4] for a in geo.NEIGHBORHOODS])[area]
    lon0 = np.array([a[5] for a in geo.NEIGHBORHOODS])[area]
    lat = np.clip(lat0 + 0.005 * normal(key, 20), *geo.LAT_RANGE)
    lon = np.clip(lon0 + 0.007 * normal(key, 22), *geo.LON_RANGE)

    n_streets = len(geo.STREETS)
    street = (area * 3 + (uniform(key, 24) * geo.STREETS_PER_AREA).astype(np.int64)) % n_streets
    cross_pick = (area * 3 + (uniform(key, 25) * geo.STREETS_PER_AREA).astype(np.int64)) % (
        n_streets
    )
    cross = np.where((uniform(key, 26) < 0.18) & (cross_pick != street), cross_pick, -1)
    tract = area * 2 + (uniform(key, 27) < 0.5)
    block_group = 1 + (uniform(key, 28) * 3).astype(np.int64)

    return Incidents(
        key=key,
        day=day,
        seq=seq,
        row_id=_mix(key ^ np.uint64(0x5EED)) >> np.uint64(4),
        occurred=occurred,
        created_local=created_local,
        created_utc=created_utc,
        updated_utc=updated_utc,
        update_kind=update_kind,
        area=area,
        type_final=type_final,
        type_orig=type_orig,
        geo_state=geo_state,
        coord_state=coord_state,
        lat_milli=np.round(lat * 1000).astype(np.int64),
        lon_milli=np.round(lon * 1000).astype(np.int64),
        street=street,
        cross=cross,
        block=1 + (uniform(key, 29) * geo.MAX_BLOCK).astype(np.int64),
        tract=tract,
        block_group=block_group,
        census_block=(uniform(key, 30) * 30).astype(np.int64),
    )
