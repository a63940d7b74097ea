"""Determinism and the as-of semantics of the synthetic city, plus its statistical shape."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import requests

from replay import city, geo
from replay.query import run_query
from replay.server import running_replay
from replay.table import build_table, end_of_day_utc_ms

START = date(2024, 1, 1)
DAY = date(2024, 4, 10)
ALL = {"$select": ":*,*", "$limit": "50000", "$order": ":id"}


def _rows(as_of: date, start: date = START) -> dict[str, dict]:
    with running_replay(as_of=as_of, start=start) as url:
        rows = requests.get(url, params=ALL, timeout=30).json()
    return {r[":id"]: r for r in rows}


def _stamp(day: date) -> str:
    ms = end_of_day_utc_ms(day)
    return np.datetime_as_string(np.datetime64(ms, "ms"), unit="ms", timezone="UTC")


def test_same_as_of_gives_the_same_bytes():
    first = build_table(START, DAY, 1.0)
    second = build_table(START, DAY, 1.0)  # built afresh, not from the cache
    assert first is not second
    assert run_query(first, ALL, frozenset()).body == run_query(second, ALL, frozenset()).body


def test_later_as_of_keeps_records_and_only_revises_them():
    now, later = _rows(DAY), _rows(DAY + timedelta(days=5))
    assert set(now) < set(later)
    cutoff = _stamp(DAY)
    revised = 0
    for row_id, row in now.items():
        again = later[row_id]
        assert again[":created_at"] == row[":created_at"] and row[":created_at"] < cutoff
        assert again["case_number"] == row["case_number"]
        if again[":updated_at"] == row[":updated_at"]:
            assert again == row
        else:
            revised += 1
            assert again[":updated_at"] > cutoff >= row[":updated_at"]
            assert again != row
    assert revised > 0


def test_next_day_adds_rows_and_updates_some():
    now, tomorrow = _rows(DAY), _rows(DAY + timedelta(days=1))
    new = set(tomorrow) - set(now)
    cutoff, next_cutoff = _stamp(DAY), _stamp(DAY + timedelta(days=1))
    assert 20 < len(new) < 100
    assert all(cutoff <= tomorrow[i][":created_at"] < next_cutoff for i in new)
    updated = [i for i in now if tomorrow[i][":updated_at"] != now[i][":updated_at"]]
    assert updated and all(cutoff <= tomorrow[i][":updated_at"] < next_cutoff for i in updated)
    kinds = set()
    for i in updated:
        before, after = now[i], tomorrow[i]
        if before["incident_type_primary"] != after["incident_type_primary"]:
            kinds.add("reclassified")
        if before.get("neighborhood") != after.get("neighborhood"):
            kinds.add("geography")
        if before.get("latitude") != after.get("latitude"):
            kinds.add("coordinates")
    assert kinds >= {"reclassified", "geography"}


def test_a_day_is_the_same_whatever_the_history_start():
    from_jan, from_apr = _rows(DAY, START), _rows(DAY, date(2024, 4, 1))
    april = {i: r for i, r in from_jan.items() if r["incident_datetime"] >= "2024-04-01"}
    assert april == from_apr


def test_volume_seasonality_and_area_levels():
    inc = city.generate(date(2015, 1, 1), date(2024, 12, 31))
    per_day = np.bincount(inc.day - inc.day.min())
    assert 30 <= per_day.mean() <= 60
    d64 = (inc.day).astype("datetime64[D]")
    month = (d64.astype("datetime64[M]").astype(int) % 12) + 1
    by_month = np.bincount(month, minlength=13)[1:]
    assert by_month[6] > 1.3 * by_month[0]  # July busier than January
    weekday = (inc.day + 3) % 7
    by_weekday = np.bincount(weekday)
    assert by_weekday[5] > 1.05 * by_weekday[6]  # Saturday busier than Sunday
    by_area = np.bincount(inc.area, minlength=len(geo.NEIGHBORHOODS))
    assert by_area.min() > 0 and by_area.max() > 5 * by_area.min()
    years = d64.astype("datetime64[Y]").astype(int) + 1970
    per_year = np.bincount(years - 2015)
    assert per_year[0] > per_year[-1] > 0.6 * per_year[0]  # a mild downward trend, no break
    assert np.all(np.abs(np.diff(per_year) / per_year[:-1]) < 0.12)
