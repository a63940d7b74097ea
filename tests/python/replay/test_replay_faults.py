"""Every fault is opt-in, deterministic and observable with exact counts."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import numpy as np
import orjson
import pytest
import requests

from replay.faults import validate
from replay.server import running_replay
from replay.table import get_table

START, AS_OF = date(2024, 1, 1), date(2024, 6, 30)
PAGE = {"$limit": "10", "$order": ":id"}


def _stats(url: str) -> dict:
    return requests.get(url.split("/resource/")[0] + "/__replay/stats", timeout=10).json()


def _statuses(url: str, n: int) -> list[int]:
    with requests.Session() as s:
        return [s.get(url, params=PAGE, timeout=30).status_code for _ in range(n)]


def test_unknown_fault_is_rejected():
    with pytest.raises(ValueError, match="bogus"):
        validate(("http429", "bogus"))


def _codes(url: str, offsets: list[int]) -> list[int]:
    with requests.Session() as s:
        return [
            s.get(url, params={**PAGE, "$offset": str(o)}, timeout=30).status_code for o in offsets
        ]


def test_http429_on_the_first_requests_of_every_run_then_in_bursts():
    with running_replay(as_of=AS_OF, start=START, faults=("http429",)) as url:
        with requests.Session() as s:
            first = s.get(url, params=PAGE, timeout=30)
        assert first.status_code == 429 and first.headers["Retry-After"] == "1"
        assert first.json()["errorCode"] == "too_many_requests"
        # the retry of the first page, then later pages of the same run
        assert _codes(url, [0, 0] + [10] * 8) == [429, 200] + [200] * 4 + [429, 429, 200, 200]
        assert _codes(url, [0, 0, 0]) == [429, 429, 200]  # a new run starts with the fault
        assert _stats(url)["served_429"] == 6 and _stats(url)["runs"] == 2


def test_http5xx_on_the_first_requests_of_every_run_then_in_bursts():
    with running_replay(as_of=AS_OF, start=START, faults=("http5xx",)) as url:
        assert _codes(url, [0, 0, 0] + [10] * 5) == [502, 503, 200, 200, 200, 200, 502, 503]
        assert _codes(url, [0, 0, 0]) == [502, 503, 200]
        assert _stats(url)["served_5xx"] == 6


def test_both_http_faults_share_the_prologue():
    with running_replay(as_of=AS_OF, start=START, faults=("http429", "http5xx")) as url:
        assert _codes(url, [0] * 5) == [429, 429, 502, 503, 200]


def test_slow_responses_are_bounded_per_run():
    with running_replay(as_of=AS_OF, start=START, faults=("slow",)) as url:
        timings = []
        with requests.Session() as s:
            for offset in (0, 10, 10, 10, 10, 0):
                t0 = time.perf_counter()
                params = {**PAGE, "$offset": str(offset)}
                assert s.get(url, params=params, timeout=30).status_code == 200
                timings.append(time.perf_counter() - t0)
        assert timings[0] >= 0.5 and timings[3] >= 1.0 and timings[5] >= 0.5  # a new run
        assert max(timings[1], timings[2], timings[4]) < 0.5
        assert _stats(url)["slow_seconds"] == 2.0


def test_malformed_records_are_a_deterministic_share_plus_one_of_each_first():
    kinds = get_table(START, AS_OF, 1.0).malformed
    # The first page of a run starts with one record of each kind, then the hashed share.
    expected = Counter(kinds[3:].tolist()) + Counter([1, 2, 3])
    with running_replay(as_of=AS_OF, start=START, faults=("malformed",)) as url:
        rows = requests.get(url, params={"$limit": "50000"}, timeout=30).json()
        later = requests.get(url, params={"$limit": "100", "$offset": "100"}, timeout=30).json()
    bad_date = sum(r.get("incident_datetime") == "not-a-date" for r in rows)
    bad_lat = sum(r.get("latitude") == "42.9x" for r in rows)
    no_key = sum("case_number" not in r for r in rows)
    assert (bad_date, bad_lat, no_key) == (expected[1], expected[2], expected[3])
    assert rows[0]["incident_datetime"] == "not-a-date" and "case_number" not in rows[2]
    assert sum(r.get("latitude") == "42.9x" for r in later) == sum(kinds[100:200] == 2)
    assert sum(r.get("latitude") == "UNKNOWN" for r in rows) > 0  # the legit sentinel stays


def test_future_dated_records_are_ten_years_ahead():
    table = get_table(START, AS_OF, 1.0)
    with running_replay(as_of=AS_OF, start=START) as url:
        clean = requests.get(url, params={"$limit": "50000"}, timeout=30).json()
    with running_replay(as_of=AS_OF, start=START, faults=("future_dated",)) as url:
        rows = requests.get(url, params={"$limit": "50000"}, timeout=30).json()
    ahead = [i for i, r in enumerate(rows) if r["incident_datetime"] > "2030"]
    assert ahead[0] == 0 and len(ahead) == 1 + int(table.future[1:].sum())
    for i in ahead:
        assert int(rows[i]["incident_datetime"][:4]) - int(clean[i]["incident_datetime"][:4]) in (
            9,
            10,
        )
        assert {k: v for k, v in rows[i].items() if k != "incident_datetime"} == {
            k: v for k, v in clean[i].items() if k != "incident_datetime"
        }


def test_a_one_page_answer_repeats_its_first_rows():
    with running_replay(as_of=AS_OF, start=START, faults=("duplicates",)) as url:
        params = {"$order": ":id", "$select": ":id", "$limit": "100"}
        short = {**params, "$where": "incident_datetime >= '2024-06-30T00:00:00'"}
        ids = [r[":id"] for r in requests.get(url, params=short, timeout=30).json()]
    assert 2 < len(ids) < 100 and ids[-2:] == ids[:2] and len(set(ids)) == len(ids) - 2


def test_duplicates_repeat_the_previous_page_tail(fetch_all):
    with running_replay(as_of=AS_OF, start=START) as url:
        clean = fetch_all(requests.Session(), url, page=500, **{"$order": ":id", "$select": ":id"})
    with running_replay(as_of=AS_OF, start=START, faults=("duplicates",)) as url:
        with requests.Session() as s:
            pages, offset = [], 0
            while True:
                params = {"$order": ":id", "$select": ":id", "$limit": 500, "$offset": offset}
                pages.append([r[":id"] for r in s.get(url, params=params, timeout=30).json()])
                if len(pages[-1]) < 500:
                    break
                offset += 500
    ids = [i for page in pages for i in page]
    full_pages = len(clean) // 500 + (1 if len(clean) % 500 else 0)
    assert len(ids) == len(clean) + 2 * (full_pages - 1)
    assert set(ids) == {r[":id"] for r in clean}
    for prev, page in zip(pages, pages[1:], strict=False):
        if len(page) > 2:
            assert page[:2] == prev[-2:]


def test_drift_new_column():
    with running_replay(as_of=AS_OF, start=START) as url:
        resp = requests.get(url, params={"$select": "zip_code"}, timeout=30)
        assert resp.status_code == 400
    with running_replay(as_of=AS_OF, start=START, faults=("drift_new_column",)) as url:
        resp = requests.get(url, params={"$limit": "100"}, timeout=30)
        fields = orjson.loads(resp.headers["X-SODA2-Fields"])
        assert {"zip_code", "incident_id"} <= set(fields)
        rows = resp.json()
        assert all(r["zip_code"].startswith("142") and r["incident_id"].isdigit() for r in rows)
        assert len({r["incident_id"] for r in rows}) == len(rows)


def test_drift_type_change():
    with running_replay(as_of=AS_OF, start=START, faults=("drift_type_change",)) as url:
        resp = requests.get(url, params={"$limit": "50000"}, timeout=30)
    types = dict(
        zip(
            orjson.loads(resp.headers["X-SODA2-Fields"]),
            orjson.loads(resp.headers["X-SODA2-Types"]),
            strict=True,
        )
    )
    assert types["hour_of_day"] == "number"
    rows = resp.json()
    assert all(isinstance(r["hour_of_day"], int) for r in rows)
    lats = [r["latitude"] for r in rows if "latitude" in r]
    assert any(isinstance(v, float) for v in lats) and "UNKNOWN" in lats
    assert all(isinstance(v, float) or v == "UNKNOWN" for v in lats)
    assert np.isclose(
        [v for v in lats if v != "UNKNOWN"], np.round([v for v in lats if v != "UNKNOWN"], 3)
    ).all()
