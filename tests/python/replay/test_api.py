"""SODA contract of the replay API: paging, filters, ordering, $select, errors, data shape."""

from __future__ import annotations

import re

import orjson
import pytest
import requests

from replay import geo

ORDER = ":updated_at,:id"


@pytest.fixture(scope="module")
def everything(http: requests.Session, replay_url: str) -> list[dict]:
    rows = http.get(replay_url, params={"$select": ":*,*", "$limit": 50000}, timeout=30).json()
    assert 5000 < len(rows) < 50000
    return rows


def test_default_limit_is_1000_and_system_fields_only_when_selected(http, replay_url):
    rows = http.get(replay_url, timeout=30).json()
    assert len(rows) == 1000
    assert not any(k.startswith(":") for row in rows for k in row)
    assert set().union(*rows) <= {f for f, _ in geo.FIELDS}


@pytest.mark.parametrize("order", [":id", ORDER, "incident_datetime desc,:id"])
def test_paging_covers_every_row_exactly_once(http, replay_url, everything, order, fetch_all):
    rows = fetch_all(http, replay_url, page=700, **{"$order": order, "$select": ":id"})
    ids = [r[":id"] for r in rows]
    assert len(ids) == len(set(ids)) == len(everything)


def test_order_by_updated_at_then_id(http, replay_url, everything, fetch_all):
    rows = fetch_all(http, replay_url, page=2000, **{"$order": ORDER, "$select": ":*"})
    keys = [(r[":updated_at"], r[":id"]) for r in rows]
    assert keys == sorted(keys)
    desc = http.get(
        replay_url, params={"$order": "neighborhood DESC, :id", "$limit": 50000}, timeout=30
    ).json()
    # nulls sort last ascending, so first descending (as Socrata does)
    values = [r.get("neighborhood") for r in desc]
    first_known = next(i for i, v in enumerate(values) if v is not None)
    assert first_known > 0 and None not in values[first_known:]
    assert values[first_known:] == sorted(values[first_known:], reverse=True)


def test_where_on_datetimes_text_and_system_fields(http, replay_url, everything, fetch_all):
    where = (
        "incident_datetime >= '2024-03-01T00:00:00' AND incident_datetime < '2024-03-08' "
        "and parent_incident_type = 'Theft' and :updated_at > '2024-03-02T00:00:00.000Z'"
    )
    rows = fetch_all(http, replay_url, **{"$where": where, "$select": ":*,*"})
    expected = [
        r
        for r in everything
        if "2024-03-01T00:00:00.000" <= r["incident_datetime"] < "2024-03-08"
        and r["parent_incident_type"] == "Theft"
        and r[":updated_at"] > "2024-03-02T00:00:00.000Z"
    ]
    assert rows and sorted(r[":id"] for r in rows) == sorted(r[":id"] for r in expected)


def test_is_null_between_or_not_and_plain_equality(http, replay_url, everything, fetch_all):
    def ids(**params):
        rows = fetch_all(http, replay_url, **{"$select": ":id", **params})
        return {r[":id"] for r in rows}

    missing = {r[":id"] for r in everything if "neighborhood" not in r}
    assert missing and ids(**{"$where": "neighborhood IS NULL"}) == missing
    assert len(ids(**{"$where": "neighborhood is not null"})) == len(everything) - len(missing)
    unknown = {r[":id"] for r in everything if r.get("neighborhood") == "UNKNOWN"}
    assert unknown and ids(neighborhood="UNKNOWN") == unknown
    window = ids(**{"$where": "created_at between '2024-02-01' and '2024-02-02T12:00:00'"})
    outside = ids(**{"$where": "not (created_at between '2024-02-01' and '2024-02-02T12:00')"})
    assert window and not window & outside and len(window | outside) == len(everything)
    either = ids(**{"$where": "police_district = 'District A' OR police_district='District B'"})
    a_or_b = {
        r[":id"] for r in everything if r.get("police_district") in ("District A", "District B")
    }
    assert either == a_or_b


def test_select_columns_and_schema_headers(http, replay_url):
    resp = http.get(
        replay_url,
        params={"$select": "case_number, :updated_at,location", "$limit": 50},
        headers={"X-App-Token": "not-a-real-token"},
        timeout=30,
    )
    assert resp.status_code == 200
    assert orjson.loads(resp.headers["X-SODA2-Fields"]) == [
        "case_number",
        ":updated_at",
        "location",
    ]
    assert orjson.loads(resp.headers["X-SODA2-Types"]) == ["text", "fixed_timestamp", "point"]
    for row in resp.json():
        assert set(row) <= {"case_number", ":updated_at", "location"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", row[":updated_at"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$where": "no_such > '1'"}, "query.soql.no-such-column"),
        ({"$select": "case_number,nope"}, "query.soql.no-such-column"),
        ({"$order": "nope desc"}, "query.soql.no-such-column"),
        ({"nope": "x"}, "query.soql.no-such-column"),
        ({"$where": "incident_datetime >> '2024-01-01'"}, "query.compiler.malformed"),
        ({"$where": "incident_datetime > '2024-01-01' and"}, "query.compiler.malformed"),
        ({"$where": "incident_datetime > 'yesterday'"}, "query.soql.type-mismatch"),
        ({"$where": "neighborhood > 3"}, "query.soql.type-mismatch"),
        ({"$order": "location"}, "query.soql.type-mismatch"),
        ({"$select": "count(*)"}, "query.soql.no-such-function"),
        ({"$limit": "50001"}, "query.execution.limit-exceeded"),
        ({"$limit": "ten"}, "query.compiler.malformed"),
        ({"$group": "neighborhood"}, "query.compiler.malformed"),
    ],
)
def test_bad_queries_get_socrata_shaped_400(http, replay_url, params, code):
    resp = http.get(replay_url, params=params, timeout=30)
    assert resp.status_code == 400
    body = resp.json()
    assert body["errorCode"] == code and body["message"] and isinstance(body["data"], dict)
    if code == "query.soql.no-such-column":
        assert body["data"]["column"] in ("no_such", "nope")


def test_unknown_dataset_and_path_are_404(http, replay_url):
    for url in (
        replay_url.replace(geo.DATASET_ID, "abcd-1234"),
        replay_url.replace("/resource/", "/nothing/"),
    ):
        resp = http.get(url, timeout=30)
        assert resp.status_code == 404
        assert resp.json()["errorCode"] == "not_found"


def test_view_metadata_lists_the_columns(http, replay_url):
    base = replay_url.split("/resource/")[0]
    meta = http.get(f"{base}/api/views/{geo.DATASET_ID}.json", timeout=30).json()
    assert [c["fieldName"] for c in meta["columns"]] == [f for f, _ in geo.FIELDS]


def test_records_look_like_buffalo(everything):
    assert len({r["case_number"] for r in everything}) == len(everything)
    for row in everything:
        for key, value in row.items():
            assert isinstance(value, dict if key == "location" else str), key
        assert re.fullmatch(r"\d\d-\d{7}", row["case_number"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000", row["incident_datetime"])
        assert row["incident_description"] == geo.DESCRIPTION
        if "location" in row:
            lon, lat = row["location"]["coordinates"]
            assert (f"{lat:.3f}", f"{lon:.3f}") == (row["latitude"], row["longitude"])
            assert 42.82 <= lat <= 42.97 and -78.92 <= lon <= -78.79
    police = {r.get("police_district") for r in everything}
    assert police == {f"District {c}" for c in "ABCDE"} | {"UNKNOWN", None}
    assert len({r.get("council_district") for r in everything} - {"UNKNOWN", None}) == 9
    assert len({r.get("neighborhood") for r in everything} - {"UNKNOWN", None}) == 35
    assert {r["parent_incident_type"] for r in everything} >= {"Theft", "Assault", "Homicide"}
    assert sum(r.get("latitude") == "UNKNOWN" for r in everything) > 0
    assert sum("latitude" not in r for r in everything) > 0
    addresses = [r["address_1"] for r in everything]
    assert any(re.fullmatch(r"\d+ Block [A-Z ]+", a) for a in addresses)
    assert any(" & " in a for a in addresses)
    theft = sum(r["parent_incident_type"] == "Theft" for r in everything) / len(everything)
    assert 0.35 < theft < 0.55
