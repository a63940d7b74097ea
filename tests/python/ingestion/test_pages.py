"""Page parsing: DuckDB's fast path gives exactly the reference path's table (orjson + Python).

Checked on hand-made edge cases, on replay pages under every record fault, and on the pages the
replay API serves for each real portal sample: same columns in the same order, same text in
every cell, same drift kinds, same errors for a body that is not a JSON array.
"""

from __future__ import annotations

from datetime import date

import orjson
import pytest
import requests
from real_samples import REAL_DATA

from ingestion.pages import NotAnArray, Page, PageParser, from_records, loads
from ingestion.socrata.helpers import build_where
from ingestion.socrata.settings import dataset_settings
from replay.query import run_query, schema
from replay.table import get_table

AS_OF = date(2024, 3, 1)
RECORD_FAULTS = ("malformed", "duplicates", "drift_new_column", "drift_type_change", "future_dated")
SAMPLES = {
    "buffalo_2019": ("buffalo_d6g9-xbgu_2019_layout_sample.csv", date(2004, 1, 1)),
    "chicago": ("chicago_ijzp-q8t2_api_sample_2025-05.csv", date(2025, 5, 1)),
    "sf": ("sf_wg3w-h783_2018-12.csv", date(2018, 12, 1)),
}


@pytest.fixture
def parser(tmp_path):
    parser = PageParser(tmp_path)
    yield parser
    parser.close()


def same_page(parser: PageParser, body: bytes, *, fast: bool = True) -> Page:
    """Parse ``body`` both ways, assert the pages agree, return the parser's page."""
    page = parser.parse(body)
    reference = from_records(loads(body))
    assert (page._objects is None) == fast  # which path served it
    assert page.table.column_names == reference.table.column_names
    for name in page.table.column_names:
        assert page.table.column(name).to_pylist() == reference.table.column(name).to_pylist(), name
    assert page.table.schema == reference.table.schema
    assert (page.records, page.kinds, page.non_objects) == (
        reference.records,
        reference.kinds,
        reference.non_objects,
    )
    rows = list(range(page.table.num_rows))
    assert page.payloads(rows) == reference.payloads(rows)
    return page


def test_values_become_the_same_text_as_the_reference(parser):
    records = [
        {
            "a": 'café \n "q" / \\ \u2028 😀',
            "loc": {"type": "Point", "coordinates": [-78.851, 42.9]},
            "n": 7,
            "f": 42.90,
            "b": True,
            "e": 1e5,
            "big": 12345678901234567890,
            "neg": -0.0,
            "tiny": 1e-7,
            "nul": None,
            "empty": "",
            "list": [1, "a", None],
        },
        {"z": "1", "a": "x", "b": False, "n": "7"},  # keys in another order, strings now
        {},
    ]
    page = same_page(parser, orjson.dumps(records))
    assert page.table.column_names[:3] == ["a", "loc", "n"]  # first record's order, then sorted
    assert page.kinds["loc"] == "object" and page.kinds["b"] == "checkbox"
    assert page.kinds["n"] == "number" and "a" not in page.kinds


@pytest.mark.parametrize(
    ("body", "fast"),
    [
        (b'[{"a": "x"}, ["not", "an", "object"], 3, null, "s"]', False),
        (b'[{"a": "x", "a": "y"}]', False),  # orjson keeps the last value: the reference path
        (b"[]", True),
        (b'  [{"a": 1.50E+2, "b": "\\u00e9\\ud83d\\ude00"}]', True),
    ],
)
def test_pages_the_fast_path_cannot_cover_take_the_reference_path(parser, body, fast):
    same_page(parser, body, fast=fast)


def test_a_body_that_is_not_an_array_fails_like_the_reference(parser):
    with pytest.raises(NotAnArray) as error:
        parser.parse(b'{"message": "not rows"}')
    assert error.value.kind == "dict"
    with pytest.raises(orjson.JSONDecodeError):
        parser.parse(b'[{"a": ')


@pytest.mark.parametrize("fault", [None, *RECORD_FAULTS])
def test_replay_pages_under_each_record_fault(parser, fault):
    faults = frozenset({fault} if fault else ())
    table = get_table(date(2023, 1, 1), AS_OF, 1.0)
    params = {"$select": ":*,*", "$order": ":updated_at,:id", "$limit": "3000"}
    for offset in ("0", "3000"):
        body = run_query(table, {**params, "$offset": offset}, faults, schema(faults)).body
        same_page(parser, body)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_pages_of_each_real_sample(parser, sample):
    from replay.server import running_replay

    name, start = SAMPLES[sample]
    with running_replay(from_file=REAL_DATA / name, profile=sample) as source:
        url = source.partition("#")[0]
        dataset = dataset_settings(source)
        params = {
            "$select": ":*,*",
            "$where": build_where(dataset, start),
            "$order": f"{dataset.cursor},{dataset.tiebreak}",
            "$limit": 5000,
        }
        body = requests.get(url, params=params, timeout=60).content
    assert len(same_page(parser, body).table) > 100


def test_counting_is_exact_and_finishing_gives_the_parsed_page(parser, tmp_path):
    body = orjson.dumps([{"a": "1"}, {"b": 2}, {}])
    counted = parser.count(body)
    assert len(counted) == 3 and counted.page is None  # the values wait for finish
    assert not list(tmp_path.glob("body-*.json"))  # written by finish, off the fetch (p33)
    page = parser.finish(counted)
    assert page.table.to_pylist() == parser.parse(body).table.to_pylist()
    assert page.kinds == {"b": "number"} and len(page) == 3
    assert not list(tmp_path.glob("body-*.json"))  # each body file goes once finished
    assert len(parser.count(b'[{"a": 1}, 2, null]')) == 3  # non-objects count (reference path)
    assert len(parser.count(b"[]")) == 0
    with pytest.raises(NotAnArray):
        parser.count(b'{"a": 1}')  # the errors come at counting, inside the paginator
