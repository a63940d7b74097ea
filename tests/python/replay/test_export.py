"""A portal CSV export served as a Socrata dataset: names, timestamps, system fields, as-of."""

from __future__ import annotations

from datetime import date

import orjson
import pandas as pd
import pytest
import requests
from real_samples import REAL_DATA

from ingestion.profiles import load_profile
from replay.export import ExportError, api_field_name, read_export
from replay.server import ReplayServer, file_dataset, running_replay

REAL = REAL_DATA
SF = REAL / "sf_wg3w-h783_2018-12.csv"
HOMICIDES = REAL / "chicago_ijzp-q8t2_homicides_2001_2023.csv"
BUFFALO_2019 = REAL / "buffalo_d6g9-xbgu_2019_layout_sample.csv"
ALL = {"$select": ":*,*", "$limit": "50000", "$order": ":id"}


@pytest.mark.parametrize(
    ("display", "api"),
    [
        ("Case Number", "case_number"),
        ("Police Districts", "police_districts"),
        ("FBI Code", "fbi_code"),
        ("Incident Day of Week", "incident_day_of_week"),
        ("Row ID", "row_id"),
        ("point", "point"),
        (" Updated On ", "updated_on"),
        (":@computed_region_awaf_s7ux", ":@computed_region_awaf_s7ux"),
    ],
)
def test_display_names_become_api_field_names(display, api):
    assert api_field_name(display) == api


def _rows(source: str, **params: str) -> tuple[list[dict], dict[str, str]]:
    response = requests.get(source.partition("#")[0], params={**ALL, **params}, timeout=60)
    response.raise_for_status()
    types = dict(
        zip(
            orjson.loads(response.headers["X-SODA2-Fields"]),
            orjson.loads(response.headers["X-SODA2-Types"]),
            strict=True,
        )
    )
    return response.json(), types


def test_an_sf_export_is_served_like_the_api():
    with running_replay(from_file=SF, profile="sf") as source:
        assert source.endswith("/resource/wg3w-h783.json#sf")
        rows, types = _rows(source)
    assert len(rows) == 11_884
    first = rows[0]
    assert first[":id"] == "row-00000-00000-00001"  # the first line of the file
    assert first["incident_datetime"] == "2018-12-01T00:25:00.000"  # was 2018/12/01 12:25:00 AM
    assert first["incident_date"] == "2018-12-01T00:00:00.000"  # was 2018/12/01
    assert first["report_datetime"] == "2018-12-01T00:28:00.000"
    assert first[":created_at"] == "2018-12-01T08:28:00.000Z"  # report time, PST -> UTC
    assert first[":updated_at"] == first[":created_at"]  # no update column in this export
    assert first["row_id"] == "74339603074" and first["incident_time"] == "00:25"  # text as is
    assert "filed_online" not in first  # an empty cell is omitted, like a null
    assert types["incident_datetime"] == "floating_timestamp" and types["row_id"] == "text"
    assert types[":updated_at"] == "fixed_timestamp"


def test_the_older_buffalo_layout_loses_its_index_column_and_keeps_updates():
    dataset = read_export(BUFFALO_2019, load_profile("buffalo_2019"))
    assert "" not in dataset.fields and "unnamed_0" not in dataset.fields
    assert list(dataset.fields)[:2] == ["incident_id", "case_number"]
    assert {"police_districts", "council_districts", "zip_codes"} <= set(dataset.fields)
    with running_replay(from_file=BUFFALO_2019, profile="buffalo_2019") as source:
        rows, _ = _rows(source)
    first = rows[0]
    assert first["incident_datetime"] == "2015-03-06T07:35:15.000"
    assert first["police_districts"] == "4.0"  # served as the text it is
    # :updated_at from the export's own updated_at (03/12/2015 06:05:55 AM, EDT)
    assert first[":updated_at"] == "2015-03-12T10:05:55.000Z"
    assert all(r[":updated_at"] >= r[":created_at"] for r in rows)


def test_as_of_hides_what_was_not_published_yet():
    frame = pd.read_csv(SF, dtype=str)
    reported = pd.to_datetime(frame["Report Datetime"], format="%Y/%m/%d %I:%M:%S %p")
    expected = int((reported < pd.Timestamp("2018-12-16")).sum())
    with running_replay(as_of=date(2018, 12, 15), from_file=SF, profile="sf") as source:
        rows, _ = _rows(source)
    assert len(rows) == expected and 0 < expected < len(frame)
    assert max(r["report_datetime"] for r in rows) < "2018-12-16"


def test_exports_that_do_not_fit_the_profile_are_refused(tmp_path):
    with pytest.raises(ExportError, match="no key column 'row_id' for profile sf"):
        file_dataset(HOMICIDES, "sf")
    with pytest.raises(ExportError, match="cannot read"):
        file_dataset(tmp_path / "missing.csv", "sf")
    clash = tmp_path / "clash.csv"
    clash.write_text("Row ID,row_id,Incident Datetime\n1,2,2018/12/01\n", encoding="utf-8")
    with pytest.raises(ExportError, match="maps to 'row_id'"):
        file_dataset(clash, "sf")
    with pytest.raises(ValueError, match="need the synthetic city"):
        ReplayServer(0, None, ("malformed",), dataset=file_dataset(SF, "sf"))
