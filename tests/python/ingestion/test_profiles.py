"""Source profiles: the shipped ones load, Buffalo keeps its strict lists, mistakes are one line."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
import yaml

from ingestion.profiles import (
    ProfileError,
    SourceProfile,
    load_profile,
    parse_profile,
    profile_names,
    read_profile,
)
from replay import geo

SHIPPED = ("buffalo", "buffalo_2019", "chicago", "sf")


@pytest.fixture(scope="module")
def buffalo_doc() -> dict:
    return load_profile("buffalo").to_dict()


def test_the_four_profiles_ship_and_round_trip():
    assert set(SHIPPED) <= set(profile_names())
    for name in SHIPPED:
        profile = load_profile(name)
        doc = orjson.loads(orjson.dumps(profile.to_dict()))  # what raw.source_profile holds
        assert parse_profile(doc, "landed") == profile, name
        assert profile.fields["record_key"] == (profile.key,)


def test_keys_and_levels_of_each_city():
    chicago, sf = load_profile("chicago"), load_profile("sf")
    assert (chicago.dataset_id, chicago.key) == ("ijzp-q8t2", "id")
    assert [g.level for g in chicago.geographies] == ["district", "ward", "community_area", "beat"]
    assert (sf.dataset_id, sf.key) == ("wg3w-h783", "row_id")
    assert [g.level for g in sf.geographies] == [
        "police_district",
        "analysis_neighborhood",
        "supervisor_district",
    ]
    old = load_profile("buffalo_2019")
    assert old.dataset_id == "d6g9-xbgu" and old.url is None
    assert {c for g in old.geographies for c in g.columns} == {
        "police_districts",
        "council_districts",
    }


def test_buffalo_keeps_the_demo_citys_official_lists():
    buffalo = load_profile("buffalo")
    levels = {g.level: set(g.values or ()) for g in buffalo.geographies}
    assert levels["neighborhood"] == {a[0] for a in geo.NEIGHBORHOODS}
    assert levels["police_district"] == {a[1] for a in geo.NEIGHBORHOODS}
    assert levels["council_district"] == {a[2] for a in geo.NEIGHBORHOODS}
    assert buffalo.geographies[2].columns == ("neighborhood", "neighborhood_1")  # drift aliases
    # Every type the demo city serves is mapped; every parent it serves has a category.
    assert {t[0].upper() for t in geo.TYPES} <= set(buffalo.incident_types)
    assert {t[1] for t in geo.TYPES} <= set(buffalo.parent_incident_types)
    assert (len(buffalo.incident_types), len(buffalo.parent_incident_types)) == (21, 9)
    assert {n for n, p in buffalo.parent_incident_types.items() if p.sensitive} == {
        "Sexual Assault",
        "Other Sexual Offense",
        "Sexual Offense",
    }
    assert dict(geo.FIELDS) == buffalo.column_types  # drift is measured against the demo schema


def test_names_and_urls_resolve_to_profiles():
    demo = load_profile("demo")
    assert demo.name == "buffalo" and demo.url is None
    url = "https://data.cityofchicago.org/resource/ijzp-q8t2.json"
    assert load_profile(url).name == "chicago"
    replay = "http://127.0.0.1:8765/resource/d6g9-xbgu.json"
    assert load_profile(replay).name == "buffalo" and load_profile(replay).url == replay
    picked = load_profile(replay + "#buffalo_2019")
    assert picked.name == "buffalo_2019" and picked.url == replay
    assert load_profile("sf").source_id(replay) == "127.0.0.1/wg3w-h783"


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("https://data.example.gov/resource/abcd-1234.json", "create ingestion/profiles/"),
        ("https://data.example.gov/resource/abcd-1234.json", "abcd-1234"),
        ("atlantis", "create ingestion/profiles/atlantis.yml"),
        ("https://data.example.gov/api/abcd-1234", "not a SODA resource URL"),
        ("http://127.0.0.1:1/resource/d6g9-xbgu.json#chicago", "is for dataset ijzp-q8t2"),
        ("Not A Name", "is not 'demo', a profile name"),
    ],
)
def test_unknown_sources_say_which_file_to_create(value, needle):
    with pytest.raises(ProfileError) as error:
        load_profile(value)
    assert needle in str(error.value) and "\n" not in str(error.value)


def _without(doc: dict, *path: str) -> dict:
    out = copy.deepcopy(doc)
    target = out
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return out


def _with(doc: dict, change) -> dict:
    out = copy.deepcopy(doc)
    change(out)
    return out


MISTAKES = [
    (lambda d: d.update(geography=[]), "unknown key 'geography'"),
    (lambda d: d.pop("timezone"), "missing required key 'timezone'"),
    (lambda d: d.pop("key"), "missing required key 'key'"),
    (lambda d: d["fields"].pop("occurred_at"), "missing required key 'occurred_at' in fields"),
    (lambda d: d["fields"].update(when=["x"]), "unknown key 'when' in fields"),
    (lambda d: d.update(timezone="America/Buffalo"), "not an IANA zone"),
    (lambda d: d["geographies"][0].update(columns=[]), "key 'columns' in geography level 'police"),
    (lambda d: d["geographies"][0].pop("columns"), "key 'columns' in geography level 'police"),
    (lambda d: d["geographies"].append(d["geographies"][0]), "duplicate geography level"),
    (lambda d: d["geographies"][1].update(level="city"), "reserved"),
    (lambda d: d["geographies"][1].update(normalise="upper"), "normalise 'upper'"),
    (lambda d: d["geographies"][1].update(colour="red"), "unknown key 'colour'"),
    (lambda d: d.update(dataset_id="d6g9xbgu"), "four-four"),
    (lambda d: d.update(url="https://x.org/resource/abcd-1234.json"), "url must be"),
    (lambda d: d.update(key="case number"), "not a valid name"),
    (lambda d: d["fields"].update(record_key=["incident_id"]), "fields.record_key must be"),
    (lambda d: d["fields"].update(occurred_at=["a", "b"]), "exactly one column"),
    (lambda d: d.update(cursor="updated_at"), "cursor 'updated_at'"),
    (lambda d: d.update(lookback_days=-1), "lookback_days"),
    (lambda d: d["column_types"].update(zip_code="zipcode"), "not a Socrata type"),
    (lambda d: d["incident_types"].update(ARSON="Fire"), "not in parent_incident_types"),
    (lambda d: d["parent_incident_types"]["Theft"].pop("sensitive"), "missing required key"),
    (lambda d: d["parent_incident_types"]["Theft"].update(sensitive="no"), "true or false"),
    (lambda d: d["bbox"].update(min_lat=43.0), "bbox minimums"),
    (lambda d: d.update(name="Buffalo City"), "not a valid name"),
]


@pytest.mark.parametrize(("change", "needle"), MISTAKES)
def test_each_mistake_is_one_line_naming_the_key(buffalo_doc, change, needle):
    with pytest.raises(ProfileError) as error:
        parse_profile(_with(buffalo_doc, change), "ingestion/profiles/mine.yml")
    message = str(error.value)
    assert message.startswith("ingestion/profiles/mine.yml: ") and needle in message
    assert "\n" not in message


def test_a_profile_file_is_read_and_checked(tmp_path: Path, buffalo_doc):
    good = tmp_path / "mine.yml"
    good.write_text(yaml.safe_dump({**buffalo_doc, "name": "mine"}), encoding="utf-8")
    assert isinstance(read_profile(good), SourceProfile)
    (tmp_path / "other.yml").write_text(good.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ProfileError, match="must match the file name"):
        read_profile(tmp_path / "other.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\nfields: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid YAML at line"):
        read_profile(broken)
    minimal = {
        "name": "tiny",
        "dataset_id": "abcd-1234",
        "city_name": "Tiny",
        "timezone": "UTC",
        "key": "id",
        "fields": {"record_key": "id", "occurred_at": "when"},
    }
    tiny = parse_profile(minimal, "tiny.yml")
    assert tiny.lookback_days == 3 and tiny.cursor == ":updated_at" and tiny.geographies == ()
    assert _without(tiny.to_dict(), "url") != tiny.to_dict()  # every optional key present
