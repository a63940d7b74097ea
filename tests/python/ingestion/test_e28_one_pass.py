"""One DuckDB pass per page (e28): exact, or the two-pass path.

The one pass reads the candidate names (first record, ``X-SODA2-Fields``, the last page) and
keeps the result only when the page's colons are all accounted for. Each case here is one a
fast path without that proof would get wrong (a missed column, a column from a lying header,
a wrong count); every page is compared with the reference path (orjson + Python), and which
path served it is recorded by counting the two-pass path's key passes.
"""

from __future__ import annotations

import random
from datetime import date

import orjson
import pytest

import ingestion.pages as pages
from ingestion.page_scan import count_objects, first_keys
from ingestion.pages import CountChanged, PageParser, from_records, loads
from ingestion.socrata.client import SodaClient, SourceError
from ingestion.socrata.helpers import build_where
from ingestion.socrata.settings import dataset_settings

NAMES = [":id", "case_number", "city", "location", "zip_code"]


@pytest.fixture
def parser(tmp_path, monkeypatch):
    parser = PageParser(tmp_path)
    parser.key_passes = 0  # type: ignore[attr-defined]
    count = parser._count

    def counting(*args):
        parser.key_passes += 1  # type: ignore[attr-defined]
        return count(*args)

    monkeypatch.setattr(parser, "_count", counting)
    yield parser
    parser.close()


def _records(rows: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            ":id": f"row-{i}",
            "case_number": f"24-{i:07d}",
            "city": rng.choice(["BUFFALO", 'say "hi": {x}, [y]', "a\\b", "é😀"]),
            "location": {"type": "Point", "coordinates": [-78.8 - i / 1e5, 42.9]},
            "zip_code": str(14200 + i % 20),
        }
        for i in range(rows)
    ]


def same(parser: PageParser, body: bytes, fields: list[str] | None = NAMES):
    """Parse ``body`` with ``fields`` announced; assert it equals the reference page."""
    page = parser.parse(body, fields)
    reference = from_records(loads(body))
    assert page._objects is None  # a DuckDB path served it, not the reference
    assert page.table.column_names == reference.table.column_names
    assert page.table.schema == reference.table.schema
    for name in page.table.column_names:
        assert page.table.column(name).to_pylist() == reference.table.column(name).to_pylist()
    assert (page.records, page.kinds) == (reference.records, reference.kinds)
    return page


def test_a_page_whose_keys_were_announced_takes_one_pass(parser):
    body = orjson.dumps(_records(3000))
    same(parser, body)
    same(parser, body, fields=None)  # the last page's names are candidates too
    assert parser.key_passes == 0


def test_an_unknown_key_in_record_5000_is_not_lost(parser):
    records = _records(6000)
    records[4999]["extra"] = "only here"
    page = same(parser, orjson.dumps(records))
    assert parser.key_passes == 1 and page.table.column("extra").null_count == 5999


def test_a_key_only_in_the_last_record_is_not_lost(parser):
    records = _records(2000)
    records[-1]["zz_last"] = {"nested": ["v", 1]}
    page = same(parser, orjson.dumps(records))
    assert parser.key_passes == 1 and page.table.column_names[-1] == "zz_last"


def test_a_key_with_only_null_values_keeps_its_column(parser):
    records = _records(50)
    records[20]["city"] = None  # a candidate that is null here: DuckDB reads it as absent
    records[30]["never_set"] = None  # neither announced nor ever non-null
    page = same(parser, orjson.dumps(records))
    assert parser.key_passes == 1 and "never_set" in page.table.column_names


def test_key_looking_text_inside_values_is_not_a_key(parser):
    records = _records(100)
    records[7]["city"] = '"zz": 1, "case_number": {"a": [1, "b"]}'
    records[8]["city"] = "x\\"  # a value ending in a backslash, then more keys
    records[9]["location"] = {"zz": {"city": ":"}, ":id": [":", "{"]}
    same(parser, orjson.dumps(records))
    assert parser.key_passes == 0  # none of it is a top-level key: still one pass


def test_escaped_keys_match_their_decoded_names_or_take_two_passes(parser):
    records = [{"a": "1", "b": "2"} for _ in range(200)]
    escaped = orjson.dumps(records).replace(b'"b"', b'"\\u0062"')
    same(parser, escaped, fields=["a", "b"])
    assert parser.key_passes == 0  # the same key, escaped: DuckDB and orjson decode it
    # An escaped colon in one key could cancel an unknown key's colon: never trusted.
    tricky = records[:100] + [{"a:b": "1", "a": "2"}] + [{"a": "3", "zz": "4"}]
    body = orjson.dumps(tricky).replace(b'"a:b"', b'"a\\u003ab"')
    same(parser, body, fields=["a", "b", "a:b"])
    assert parser.key_passes == 1
    quoted = orjson.dumps([{'k"q': "1", "k\\": "2"}, {'k"q': "3", "z\\\\": "4"}])
    same(parser, quoted, fields=['k"q'])


@pytest.mark.parametrize(
    "element", [b"null", b"5", b'"s"', b"[1]", b"true", b'{"a":"x"}\n,  null', b"{}"]
)
def test_a_non_object_element_never_takes_one_pass(parser, element):
    body = orjson.dumps(_records(30))[:-1] + b"," + element + b"]"
    page = parser.parse(body, NAMES)
    reference = from_records(loads(body))
    assert page.records == reference.records
    assert page.non_objects == reference.non_objects
    assert page.table.to_pylist() == reference.table.to_pylist()


def test_a_header_that_lies_changes_nothing(parser):
    records = _records(500)
    for record in records[::3]:
        record["unannounced"] = "1"
    body = orjson.dumps(records)
    liars = [["case_number"], ["nothing", "here", "City"], [], ["a", "a"], NAMES + ["zz"] * 3]
    for fields in liars:
        same(parser, body, fields)
    assert parser.key_passes <= len(liars)
    assert same(parser, body, [*NAMES, "unannounced", "not_served"]).table.num_columns == 6


@pytest.mark.parametrize("seed", range(4))
def test_the_count_from_bytes_is_exact_on_awkward_pages(seed):
    rng = random.Random(seed)
    pieces = ['"', "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "a", "é"]
    records: list = []
    for _ in range(rng.randrange(1, 60)):
        value = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 8)))
        records.append({value or "k": [value, {value: value}], "n": rng.random()})
    body = orjson.dumps(records, option=orjson.OPT_INDENT_2)  # whitespace and newlines too
    assert count_objects(body) == len(records)
    assert first_keys(body) == list(records[0])
    socrata_style = b"[" + b"\n,".join(orjson.dumps(r) for r in records) + b"]\n"
    assert count_objects(socrata_style) == len(records)
    assert count_objects(body[:-1]) is None  # never closed
    assert count_objects(b"[]") is None and count_objects(b'[{"a":1}, 2]') is None


def test_invalid_json_whose_brackets_balance_fails_when_finished(parser):
    counted = parser.count(b'[{"a": tru}, {"b": "x"}]', ["a", "b"])
    assert len(counted) == 2  # the bytes balance: no parse yet
    with pytest.raises(orjson.JSONDecodeError):
        parser.finish(counted)  # the client turns it into its one-line "invalid JSON" error


def test_a_count_that_parsing_contradicts_stops_the_page(parser, monkeypatch):
    body = orjson.dumps(_records(10))
    monkeypatch.setattr(pages, "count_objects", lambda body: 9)
    counted = parser.count(body, NAMES)
    assert len(counted) == 9
    with pytest.raises(CountChanged, match="9 records counted, 10 parsed"):
        parser.finish(counted)


def test_replay_pages_take_one_pass_through_the_client(monkeypatch):
    from replay.server import running_replay

    key_passes = []
    count = PageParser._count
    monkeypatch.setattr(
        PageParser, "_count", lambda self, *a: key_passes.append(1) or count(self, *a)
    )
    faults = ("malformed", "duplicates", "drift_new_column")
    with running_replay(as_of=date(2024, 3, 1), faults=faults, start=date(2023, 10, 1)) as url:
        dataset = dataset_settings(url, page_size=2000)
        client = SodaClient(url.partition("#")[0], dataset)
        try:
            got = list(client.pages(build_where(dataset, date(2023, 10, 1))))
        finally:
            client.close()
    assert len(got) > 2 and not key_passes
    for page in got:
        reference = from_records(page.objects())
        assert page.table.column_names == reference.table.column_names
        assert page.table.to_pylist() == reference.table.to_pylist()


def test_a_contradicted_count_is_one_line_from_the_client(monkeypatch):
    from replay.server import running_replay

    monkeypatch.setattr(pages, "count_objects", lambda body: 1)
    with running_replay(as_of=date(2024, 3, 1), start=date(2024, 2, 1)) as url:
        client = SodaClient(url.partition("#")[0], dataset_settings(url))
        try:
            with pytest.raises(SourceError, match="page parsing is inconsistent .*report it"):
                list(client.pages(build_where(dataset_settings(url), date(2024, 2, 1))))
        finally:
            client.close()
