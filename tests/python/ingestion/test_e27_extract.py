"""Extract's cheaper steps (e27) give exactly what they replaced.

- ``_decode`` (numpy over the column's bytes) turns DuckDB's JSON text into the reference
  path's text on random pages full of what breaks byte tricks: escapes, quotes and
  backslashes at the edges, multi-byte characters, empty strings, nulls, absent keys,
  numbers, booleans and objects in string columns.
- ``dlt_ids`` (numpy base64) encodes the random bytes exactly as dlt's ``generate_dlt_ids``
  (``base64.b64encode`` without padding) and gives unique 14-character ids.
"""

from __future__ import annotations

import base64
import random

import orjson
import pyarrow as pa
import pytest

import ingestion.socrata as socrata
from ingestion.pages import PageParser, _decode, from_records, loads

PIECES = ['"', "\\", "\\n", "é", "😀", "\u2028", " ", "a", "/", "\t", "'", "{", "}", "0"]


def _string(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 6)))


def _value(rng: random.Random) -> object:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.choice([0, -7, 1.5, 1e-7, 12345678901234567890, -0.0])
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return {"type": "Point", "coordinates": [rng.random(), _string(rng)]}
    if kind == 3:
        return None
    return _string(rng)


def _records(seed: int, rows: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    keys = [f"k{i}" for i in range(8)] + [":id", "case_number"]
    records = []
    for _ in range(rows):
        chosen = rng.sample(keys, rng.randrange(1, len(keys)))
        records.append({key: _value(rng) for key in chosen})
    return records


@pytest.mark.parametrize("seed", range(6))
def test_random_pages_give_the_reference_table(tmp_path, seed):
    body = orjson.dumps(_records(seed, 400))
    parser = PageParser(tmp_path)
    try:
        page = parser.parse(body)
    finally:
        parser.close()
    reference = from_records(loads(body))
    assert page._objects is None  # the fast path served it
    assert page.table.column_names == reference.table.column_names
    assert page.table.schema == reference.table.schema
    for name in page.table.column_names:
        assert page.table.column(name).to_pylist() == reference.table.column(name).to_pylist()
    assert page.kinds == reference.kinds


def test_decode_of_a_sliced_column_with_nulls():
    texts = ['"x"', None, '"a\\"b"', "12", None, '"é"', '{"a":1}', '""']
    column = pa.array(texts, pa.string())
    for start in range(4):  # offsets into shared buffers: what an Arrow slice gives
        part = column.slice(start)
        text, kind = _decode(part)
        want = [None if v is None else orjson.loads(v) if v[0] == '"' else v for v in texts]
        assert text.to_pylist() == want[start:]
        assert kind == ("number" if start <= 3 else "object")
    text, kind = _decode(pa.array([None, None], pa.string()))
    assert text.to_pylist() == [None, None] and kind is None


def test_dlt_ids_encode_like_dlt(monkeypatch):
    raw = bytes(range(256)) * 40  # 1,024 ids' worth of every byte value
    monkeypatch.setattr(socrata.secrets, "token_bytes", lambda n: raw[:n])
    got = socrata.dlt_ids(len(raw) // 10).to_pylist()
    want = [base64.b64encode(raw[i : i + 10]).decode().rstrip("=") for i in range(0, 10240, 10)]
    assert got == want


def test_dlt_ids_are_unique_and_dlt_shaped():
    ids = socrata.dlt_ids(50_000)
    assert ids.type == pa.string() and len(ids) == 50_000 and ids.null_count == 0
    values = ids.to_pylist()
    assert len(set(values)) == 50_000
    assert {len(v) for v in values} == {14}
    assert len(base64.b64decode(values[0] + "==")) == 10
    assert socrata.dlt_ids(0).to_pylist() == []
