"""The dataset as published on a given as-of date: visible rows, their current versions, columns.

A record is visible when its ``:created_at`` falls before the end of the as-of day (Buffalo
time); the version served is the revision when its ``:updated_at`` also falls before that
instant, else the original. Tables are cached per (start, as_of, scale).

Environment variables read here: none.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from replay import city, geo
from replay.columns import Categorical, Column, Formatted, Point, Timestamp

MALFORMED_SHARE = 0.005  # of visible rows, when the ``malformed`` fault is on
FUTURE_SHARE = 0.002  # of visible rows, dated ten years ahead under ``future_dated``
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_ID_SHIFTS = np.arange(56, -1, -4, dtype=np.uint64)  # 15 hex digits = 60 bits


def row_ids(numbers: np.ndarray) -> np.ndarray:
    """``row-xxxxx-xxxxx-xxxxx``: fixed-width hex, so text order equals numeric order."""
    digits = _HEX[((numbers.astype(np.uint64)[:, None] >> _ID_SHIFTS) & np.uint64(15))]
    out = np.full((len(numbers), 21), ord("-"), dtype=np.uint8)
    out[:, :3] = np.frombuffer(b"row", dtype=np.uint8)
    out[:, 4:9], out[:, 10:15], out[:, 16:21] = digits[:, :5], digits[:, 5:10], digits[:, 10:]
    return out


def _digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers, as a uint8 matrix."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((numbers.astype(np.int64)[:, None] // powers) % 10 + ord("0")).astype(np.uint8)


def _case_numbers(numbers: np.ndarray) -> np.ndarray:
    """``YY-DDDSSSS`` (year, day of year, sequence of the day)."""
    out = np.full((len(numbers), 10), ord("-"), dtype=np.uint8)
    out[:, :2] = _digits(numbers // 10_000_000, 2)
    out[:, 3:] = _digits(numbers % 10_000_000, 7)
    return out


def _incident_ids(numbers: np.ndarray) -> np.ndarray:
    return _digits(numbers, 9)


def _cat(codes: np.ndarray, values: Sequence[str | None]) -> Categorical:
    return Categorical(codes, geo.lookup(values))


def _geo_columns(inc: city.Incidents, geo_state: np.ndarray, keep: np.ndarray) -> dict:
    """Neighbourhood, districts and census keys; 'UNKNOWN' or omitted where geography is missing."""
    n_area = len(geo.NEIGHBORHOODS)
    area = inc.area[keep]
    # geo_state 1 -> the extra 'UNKNOWN' code (n_area), 2 -> the None code (n_area + 1)
    code = np.where(geo_state == 0, area, n_area + geo_state - 1)
    cols: dict[str, Column] = {
        name: _cat(code, [*(str(a[i]) for a in geo.NEIGHBORHOODS), "UNKNOWN", None])
        for name, i in (("neighborhood", 0), ("police_district", 1), ("council_district", 2))
    }
    n_tracts, n_cb = 2 * n_area, 30
    combo = (inc.tract[keep] * 4 + inc.block_group[keep]) * n_cb + inc.census_block[keep]
    combo = np.where(geo_state == 0, combo, n_tracts * 4 * n_cb)
    tract_num = [2 + (c // (4 * n_cb)) * 2 for c in range(n_tracts * 4 * n_cb)]
    bg = [(c // n_cb) % 4 for c in range(n_tracts * 4 * n_cb)]
    blk = [f"{b}{c % n_cb:03d}" for b, c in zip(bg, range(n_tracts * 4 * n_cb), strict=True)]
    tractce = [f"{t * 100:06d}" for t in tract_num]
    derived = {
        "census_tract_2010": [str(t) for t in tract_num],
        "census_block_group_2010": [str(b) for b in bg],
        "census_block_2010": blk,
        "census_tract": [str(t) for t in tract_num],
        "census_block": blk,
        "census_block_group": [str(b) for b in bg],
        "tractce20": tractce,
        "geoid20_tract": [f"36029{t}" for t in tractce],
        "geoid20_blockgroup": [f"36029{t}{b}" for t, b in zip(tractce, bg, strict=True)],
        "geoid20_block": [f"36029{t}{k}" for t, k in zip(tractce, blk, strict=True)],
    }
    for name, values in derived.items():
        cols[name] = _cat(combo, [*values, None])
    return cols


@dataclass
class Table:
    """Visible rows (in generation order) with their columns, for one as-of date."""

    as_of: date
    columns: dict[str, Column]
    malformed: np.ndarray  # 0 none, 1 bad incident_datetime, 2 bad latitude, 3 no case_number
    last_modified_ms: int
    future: np.ndarray | None = None  # rows dated ten years ahead under ``future_dated``
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.malformed)

    def cached(self, key: tuple, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Return ``compute()`` memoised under ``key`` (a tiny LRU of the last 32 queries)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return value


def end_of_day_utc_ms(day: date) -> int:
    """UTC epoch ms of midnight at the end of ``day`` in Buffalo."""
    local = np.array([(day + timedelta(days=1) - date(1970, 1, 1)).days * city.MS_PER_DAY])
    return int(city.local_to_utc_ms(local)[0])


def build_table(start: date, as_of: date, scale: float) -> Table:
    """Generate the history and keep what is published by the end of ``as_of``."""
    inc = city.generate(start, as_of, scale)
    cutoff = end_of_day_utc_ms(as_of)
    keep = inc.created_utc < cutoff
    revised = (inc.update_kind[keep] > 0) & (inc.updated_utc[keep] < cutoff)
    kind = inc.update_kind[keep]
    type_code = np.where((kind == 1) & ~revised, inc.type_orig[keep], inc.type_final[keep])
    geo_state = np.where((kind == 2) & ~revised, 1, inc.geo_state[keep])
    coord_state = np.where((kind == 3) & ~revised, 1, inc.coord_state[keep])
    updated = np.where(revised, inc.updated_utc[keep], inc.created_utc[keep])
    occurred = inc.occurred[keep]
    day = inc.day[keep]
    d64 = day.astype("datetime64[D]")
    years = d64.astype("datetime64[Y]").astype(np.int64) + 1970
    doy = (d64 - d64.astype("datetime64[Y]")).astype(np.int64) + 1
    case_no = (years % 100) * 10_000_000 + doy * 10_000 + inc.seq[keep]
    n = int(keep.sum())

    cols: dict[str, Column] = {
        "case_number": Formatted(case_no, _case_numbers),
        "incident_datetime": Timestamp(occurred, fixed=False),
        "incident_type_primary": _cat(type_code, [t[0] for t in geo.TYPES]),
        "incident_description": _cat(np.zeros(n, dtype=np.int64), [geo.DESCRIPTION]),
        "parent_incident_type": _cat(type_code, [t[1] for t in geo.TYPES]),
        "hour_of_day": _cat((occurred // city.MS_PER_HOUR) % 24, [str(h) for h in range(24)]),
        "day_of_week": _cat((day + 3) % 7, list(geo.WEEKDAY_NAMES)),
    }
    n_st = len(geo.STREETS)
    blocks = [f"{b * 100} Block {s}" for b in range(geo.MAX_BLOCK + 1) for s in geo.STREETS]
    crossings = [f"{s} & {c}" for s in geo.STREETS for c in geo.STREETS]
    street, cross = inc.street[keep], inc.cross[keep]
    addr = np.where(cross < 0, inc.block[keep] * n_st + street, len(blocks) + street * n_st + cross)
    cols["address_1"] = _cat(addr, blocks + crossings)
    cols["city"] = _cat(np.zeros(n, dtype=np.int64), ["BUFFALO"])
    cols["state"] = _cat(np.zeros(n, dtype=np.int64), ["NY"])
    cols["location"] = Point(inc.lat_milli[keep], inc.lon_milli[keep], coord_state == 0)
    for name, milli in (("latitude", inc.lat_milli[keep]), ("longitude", inc.lon_milli[keep])):
        uniq, inv = np.unique(milli, return_inverse=True)
        values = [f"{v / 1000:.3f}" for v in uniq.tolist()] + ["UNKNOWN", None]
        code = np.where(coord_state == 0, inv, len(uniq) + coord_state - 1)
        cols[name] = _cat(code, values)
    cols["created_at"] = Timestamp(inc.created_local[keep], fixed=False)
    cols.update(_geo_columns(inc, geo_state, keep))
    cols[":id"] = Formatted(inc.row_id[keep], row_ids)
    cols[":id"].soda_type = "row_identifier"
    cols[":created_at"] = Timestamp(inc.created_utc[keep], fixed=True)
    cols[":updated_at"] = Timestamp(updated, fixed=True)
    # Drift columns, exposed only under the drift_new_column fault.
    cols["incident_id"] = Formatted(case_no + 300_000_000, _incident_ids)
    cols["zip_code"] = _cat(inc.area[keep] % 24, [f"142{z + 1:02d}" for z in range(24)])

    u_bad = city.uniform(inc.key[keep], 40)
    malformed = np.where(u_bad < MALFORMED_SHARE, 1 + (u_bad * 600).astype(np.int64) % 3, 0)
    future = city.uniform(inc.key[keep], 41) < FUTURE_SHARE
    last_modified = int(updated.max()) if n else cutoff
    return Table(as_of, {k: cols[k] for k in _ORDER}, malformed, last_modified, future)


_ORDER = [f for f, _ in geo.FIELDS + geo.SYSTEM_FIELDS + geo.DRIFT_FIELDS]
_TABLES: OrderedDict[tuple, Table] = OrderedDict()
_TABLES_LOCK = threading.Lock()


def get_table(start: date, as_of: date, scale: float = 1.0) -> Table:
    """The cached table for (start, as_of, scale); at most 4 kept (they can be large)."""
    key = (start, as_of, float(scale))
    with _TABLES_LOCK:  # one build at a time: concurrent first requests share the result
        if key not in _TABLES:
            _TABLES[key] = build_table(start, as_of, scale)
            while len(_TABLES) > 4:
                _TABLES.popitem(last=False)
        _TABLES.move_to_end(key)
        return _TABLES[key]
