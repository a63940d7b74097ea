"""DuckDB's JSON text of one column → the landing text (the page parser's values step).

Environment variables read here: none.
"""

from __future__ import annotations

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.validation import column_name

# First character of a non-string JSON value's text -> its Socrata-like kind (drift detection).
_KINDS = {"{": "object", "[": "object", "t": "checkbox", "f": "checkbox"}


def _decode(column: pa.Array) -> tuple[pa.Array, str | None]:
    """DuckDB JSON text of one column → landing text, and the kind of its first non-string.

    Numpy over the column's bytes: each string's two quotes are dropped and the offsets moved
    (what is between stays valid UTF-8, so nothing is copied twice or re-validated).
    """
    if column.type != pa.string():
        column = column.cast(pa.string())
    validity, offsets_buffer, data_buffer = column.buffers()
    data_buffer = data_buffer or pa.py_buffer(b"")
    size = len(column)
    offsets = np.frombuffer(offsets_buffer, np.int32, size + 1, column.offset * 4)
    data = np.frombuffer(data_buffer, np.uint8, int(offsets[-1] - offsets[0]), int(offsets[0]))
    offsets = offsets - offsets[0]
    starts, ends = offsets[:-1], offsets[1:]
    is_valid = column.is_valid()
    valid = is_valid.to_numpy(zero_copy_only=False)
    filled = valid & (ends > starts)
    first = np.zeros(size, np.uint8)
    first[filled] = data[starts[filled]]
    quoted = first == ord('"')
    other = filled & ~quoted  # numbers, booleans, objects: kept as they are
    keep = np.ones(len(data), bool)
    keep[starts[quoted]] = False
    keep[ends[quoted] - 1] = False
    dropped = np.concatenate(([0], np.cumsum(quoted, dtype=np.int64) * 2))
    text = pa.StringArray.from_buffers(
        size,
        pa.py_buffer((offsets - dropped).astype(np.int32)),
        pa.py_buffer(data[keep]),
        validity if validity is None else is_valid.buffers()[1],
        column.null_count,
    )
    # A string holding an escape (a backslash inside quotes) is decoded by orjson, as before.
    escaped = np.zeros(size, bool)
    slashes = np.flatnonzero(data == ord("\\"))
    if len(slashes):
        escaped[np.searchsorted(ends, slashes, side="right")] = True
        escaped &= quoted
    if escaped.any():
        rows = np.flatnonzero(escaped)
        decoded = [orjson.loads(v) for v in column.take(pa.array(rows)).to_pylist()]
        text = pc.replace_with_mask(text, pa.array(escaped), pa.array(decoded, pa.string()))
    kind = None
    if other.any():
        kind = _KINDS.get(chr(first[np.argmax(other)]), "number")
    return text, kind


def landing_table(raw: pa.Table, names: list[str]) -> tuple[pa.Table, dict[str, str]]:
    """DuckDB's ``JSON`` columns ``names`` of ``raw`` (API names, in landing order) → the
    page's landing table and the kinds of the columns that held a non-string."""
    arrays, kinds = [], {}
    for name in names:
        text, kind = _decode(raw.column(name).combine_chunks())
        arrays.append(text)
        if kind is not None:
            kinds[name] = kind
    return pa.Table.from_arrays(arrays, names=[column_name(n) for n in names]), kinds
