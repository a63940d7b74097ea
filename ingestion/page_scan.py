"""Byte-level facts about a SODA page, so DuckDB needs to parse it only once (issue 16 P1).

:func:`count_objects` counts the elements of the top-level array without a JSON parse, and says
whether every one is an object; :func:`first_keys` reads only the first record;
:func:`colon_total` is what the one-pass read checks its columns against (see
:meth:`ingestion.pages.PageParser.finish`). Each answers ``None`` where it is not sure, and the
caller then takes the two-pass path. None of them validates JSON: DuckDB's read does, and an
invalid page still ends in the reference path's error.

Environment variables read here: none.
"""

from __future__ import annotations

import numpy as np
import orjson
import pyarrow as pa

# Only these bytes say where strings, containers and elements are; colons are not needed.
_KEEP = b'"{}[],'
_DROP = bytes(sorted(set(range(256)).difference(_KEEP)))
_DEPTH = np.zeros(256, np.int8)
_DEPTH[list(b"{[")] = 1
_DEPTH[list(b"}]")] = -1
_QUOTE, _COMMA, _OPEN_OBJECT = ord('"'), ord(","), ord("{")
_FIRST_TRIES = 64  # closing braces tried for the first record before giving up


def _unescaped(body: bytes) -> bytes:
    """``body`` without escaped backslashes and escaped quotes, so every ``"`` left delimits.

    Left to right, as JSON reads them: ``\\\\`` pairs go first, then a backslash still before
    a quote escapes it. Only bytes inside strings are removed (a backslash is invalid outside).
    """
    if b"\\" not in body:
        return body
    return body.replace(b"\\\\", b"").replace(b'\\"', b"")


def count_objects(body: bytes) -> int | None:
    """Elements of the page's top-level array when there are some and all are objects, else None.

    Exact for valid JSON: the structural bytes outside strings are kept (``translate``), each
    container's depth is a running sum, and the elements are the commas at depth 1 plus one,
    the objects the ``{`` opening depth 2. Removing two adjacent quotes changes no other byte's
    inside/outside parity, so every ``""`` goes first (most keys and values are just that).
    """
    marks = _unescaped(body).translate(None, _DROP).replace(b'""', b"")
    chars = np.frombuffer(marks, np.uint8)
    quotes = chars == _QUOTE
    if quotes.any():
        inside = np.cumsum(quotes, dtype=np.int32)
        if inside[-1] % 2:
            return None
        chars = chars[((inside & 1) == 0) & ~quotes]
    if len(chars) < 2 or chars[0] != ord("["):
        return None
    depth = np.cumsum(_DEPTH[chars], dtype=np.int32)
    if depth[-1] != 0 or depth[:-1].min() < 1:
        return None  # not exactly one array (DuckDB would refuse it anyway)
    objects = int(np.count_nonzero((chars == _OPEN_OBJECT) & (depth == 2)))
    elements = int(np.count_nonzero((chars == _COMMA) & (depth == 1))) + 1
    return objects if objects == elements else None


def first_keys(body: bytes) -> list[str] | None:
    """The first record's keys in their order (as ``json_keys`` + ``dict.fromkeys`` give them).

    The first record is the shortest prefix from its ``{`` to a ``}`` that parses: any shorter
    slice of an object is not a JSON value.
    """
    start = body.find(b"[") + 1
    while start < len(body) and body[start] in b" \t\r\n":
        start += 1
    if not body[start : start + 1] == b"{":
        return None
    end = start
    for _ in range(_FIRST_TRIES):
        end = body.find(b"}", end + 1)
        if end < 0:
            return None
        try:
            record = orjson.loads(body[start : end + 1])
        except orjson.JSONDecodeError:
            continue
        return list(record) if type(record) is dict else None
    return None


def colon_total(body: bytes) -> int | None:
    """Colons in the page's bytes, or None when an escaped colon (``\\u003a``) is in it.

    Every colon of a valid page is either after a key, inside a key, or inside a value; DuckDB's
    text of a value keeps every colon of the raw value and adds none, except by decoding an
    escaped one, hence the None.
    """
    if b"\\" in body and (b"\\u003a" in body or b"\\u003A" in body):
        return None
    return body.count(b":")


def _colons(column: pa.ChunkedArray) -> int:
    """Colons in the text of a string column (numpy over its bytes; nulls hold none)."""
    total = 0
    for chunk in column.cast(pa.string()).chunks:
        data = chunk.buffers()[2]
        if data is not None and len(chunk):
            offsets = np.frombuffer(chunk.buffers()[1], np.int32, len(chunk) + 1, chunk.offset * 4)
            start, end = int(offsets[0]), int(offsets[-1])
            total += int(np.count_nonzero(np.frombuffer(data, np.uint8, end - start, start) == 58))
    return total


def exact_names(raw: pa.Table, first: list[str], colons: int) -> list[str] | None:
    """The page's keys in landing order, if DuckDB's ``JSON`` columns ``raw`` hold every one.

    ``colons`` (:func:`colon_total`) must be exactly one per key read plus those inside the
    names and the values read; a key outside ``raw`` or one with a null value (read as absent)
    leaves at least its own colon over. The order is the first record's keys, then the others
    sorted, as the two-pass path gives.
    """
    present = set()
    for name in raw.column_names:
        column = raw.column(name)
        values = len(column) - column.null_count
        if not values:
            continue
        present.add(name)
        colons -= values * (1 + name.count(":"))
        colons -= _colons(column)
    if colons != 0 or not present.issuperset(first):
        return None
    return first + sorted(present.difference(first))
