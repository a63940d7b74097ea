"""One SODA page (a JSON array of records) → text-only Arrow columns, without Python per cell.

The fast path lets DuckDB parse the page (it releases the GIL, so pages are parsed in worker
threads while the pipeline works on an earlier one): one pass lists each record's keys and
counts them (:meth:`PageParser.count`: all the paginator needs to request the next page), a
second (:meth:`PageParser.finish`, overlapping that download) reads every key as DuckDB
``JSON``, whose text is then turned into the landing text with Arrow compute: strings lose
their quotes (the few holding an escape are decoded one by one), anything else keeps its
compact JSON text, exactly what ``orjson.dumps`` gives.

Pages the fast path does not cover exactly (an element that is not an object, a key repeated
in a record, anything DuckDB refuses) take the reference path: ``orjson.loads`` and
:func:`~ingestion.validation.records_to_table`, which also raises the errors for a body that is
not a JSON array. Both paths give the same table (tested on every replay fault and the real
samples). One known difference: a key repeated *inside* a nested object (``location``) keeps
both copies in the landed JSON text, where orjson keeps the last; Socrata never serves that.

Environment variables read here: none.
"""

from __future__ import annotations

import gc
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.validation import column_name, records_to_table

# First character of a non-string JSON value's text -> its Socrata-like kind (drift detection).
_KINDS = {"{": "object", "[": "object", "t": "checkbox", "f": "checkbox"}
_PAGE_PREFIX = "body-"
_PAGE_GLOB = "body-*.json"
PARSE_MEMORY = "512MB"  # DuckDB's own buffers while parsing one page (results are Arrow)


class NotAnArray(ValueError):
    """The body is valid JSON but not an array (``kind`` is its Python type name)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def loads(body: bytes) -> Any:
    """``orjson.loads`` with the cyclic GC paused: a 50,000-row page is ~1M new objects, and
    the collections they trigger (none of them garbage) more than double the parse time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return orjson.loads(body)
    finally:
        if was_enabled:
            gc.enable()


def payload(record: Any) -> str:
    """A record as compact JSON text (the quarantine's ``payload``)."""
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode()


@dataclass
class Page:
    """One parsed page.

    Attributes:
        records: Elements in the page's array (objects or not): what was fetched.
        table: The object records as text columns with landing names, in page order.
        kinds: API name -> JSON kind of the first non-string value of columns that held one.
        non_objects: (reason, payload) of elements that are not JSON objects.
    """

    records: int
    table: pa.Table
    kinds: dict[str, str] = field(default_factory=dict)
    non_objects: list[tuple[str, str]] = field(default_factory=list)
    _body: bytes | None = field(default=None, repr=False)
    _objects: list[dict[str, Any]] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.records

    def objects(self) -> list[dict[str, Any]]:
        """The object records as dicts (parsed on demand: only rejected rows need them)."""
        if self._objects is None:
            parsed = loads(self._body or b"[]")
            self._objects = [r for r in parsed if type(r) is dict]
        return self._objects

    def payloads(self, rows: list[int]) -> list[str]:
        """Compact JSON of the object records at ``rows`` (positions in :attr:`table`)."""
        objects = self.objects()
        return [payload(objects[row]) for row in rows]


def from_records(records: list[Any]) -> Page:
    """The reference path: a page from already parsed records."""
    objects = [r for r in records if type(r) is dict]
    non_objects = [
        (f"record is a JSON {type(r).__name__}, not an object", payload(r))
        for r in records
        if type(r) is not dict
    ]
    kinds: dict[str, str] = {}
    table = records_to_table(objects, kinds)
    return Page(len(records), table, kinds, non_objects, _objects=objects)


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


@dataclass
class Counted:
    """A page whose records are counted (what the paginator needs), not yet turned into Arrow.

    Attributes:
        records: Elements in the page's array.
        page: The finished page when counting already made it (reference path, empty page).
        names: API names in landing order (fast path), for :meth:`PageParser.finish`.
        path: The page's own file, read by :meth:`PageParser.finish` and then removed.
        where: The redacted URL it came from (for the error of a page that fails late).
    """

    records: int
    body: bytes = field(repr=False)
    page: Page | None = None
    names: list[str] = field(default_factory=list)
    path: Path | None = None
    where: str = ""

    def __len__(self) -> int:
        return self.records


class PageParser:
    """Parses pages with DuckDB in two steps, each on its own connection (one thread each).

    :meth:`count` (one pass: keys and record count) is all the paginator needs to request the
    next page; :meth:`finish` (the values) can then run in another thread while that page
    downloads. Each page gets its own file in ``workdir``, removed once finished.

    Args:
        workdir: A private directory for the page files DuckDB reads.
    """

    def __init__(self, workdir: Path) -> None:
        self._dir = workdir
        self._serial = itertools.count()
        self._counter: duckdb.DuckDBPyConnection | None = None
        self._reader: duckdb.DuckDBPyConnection | None = None

    @staticmethod
    def _connect() -> duckdb.DuckDBPyConnection:
        return duckdb.connect(config={"threads": 1, "memory_limit": PARSE_MEMORY})

    def close(self) -> None:
        # Not closed here: a worker thread may still be parsing a page nobody will read; the
        # connections go when their last user does.
        self._counter = self._reader = None
        for path in self._dir.glob(_PAGE_GLOB):
            path.unlink(missing_ok=True)

    def parse(self, body: bytes) -> Page:
        """Parse one response body (raises :class:`NotAnArray` or ``orjson.JSONDecodeError``)."""
        return self.finish(self.count(body))

    def count(self, body: bytes) -> Counted:
        """Count the records of one body; the errors of :meth:`parse` are raised here."""
        counted = self._count(body) if body.lstrip()[:1] == b"[" else None
        if counted is None:
            page = _reference(body)
            counted = Counted(page.records, body, page=page)
        return counted

    def finish(self, counted: Counted) -> Page:
        """The page of a counted body (the reference path when DuckDB cannot read it exactly)."""
        if counted.page is not None:
            return counted.page
        try:
            page = self._read(counted)
        finally:
            if counted.path is not None:
                counted.path.unlink(missing_ok=True)
        return page if page is not None else _reference(counted.body)

    def _count(self, body: bytes) -> Counted | None:
        """Keys and count by DuckDB, or None when the fast path cannot give the reference's."""
        path = self._dir / f"{_PAGE_PREFIX}{next(self._serial):06d}.json"
        path.write_bytes(body)
        con = self._counter = self._counter or self._connect()  # local: close() may clear it
        try:
            con.execute(
                # json_type only where json_keys cannot tell; rowid is the page order (no window)
                "create or replace temp table page_keys as select keys, "
                "case when len(keys) > 0 then true else json_type(json) = 'OBJECT' end "
                "as is_object from (select json, json_keys(json) as keys "
                "from read_json_objects(?, format = 'array'))",
                [str(path)],
            )
            records, objects = con.execute(
                "select count(*), count(*) filter (where is_object) from page_keys"
            ).fetchone() or (0, 0)
            if records and objects == records:
                (first,) = con.execute("select keys from page_keys where rowid = 0").fetchone() or (
                    [],
                )
                others = con.execute("select distinct unnest(keys) from page_keys").fetchall()
        except duckdb.Error:
            records, objects = -1, 0
        if records <= 0 or objects < records:
            path.unlink(missing_ok=True)
            if records == 0:
                return Counted(0, body, page=Page(0, pa.table({}), _body=body))
            return None
        # read_json refuses a record that repeats a key (orjson would keep the last value),
        # so such a page takes the reference path in finish.
        first = list(dict.fromkeys(first))
        names = list(first) + sorted({k for (k,) in others}.difference(first))
        return Counted(records, body, names=names, path=path)

    def _read(self, counted: Counted) -> Page | None:
        names = counted.names
        reader = self._reader = self._reader or self._connect()  # local: close() may clear it
        try:
            raw = reader.read_json(
                str(counted.path), format="array", columns={n: "JSON" for n in names}
            ).to_arrow_table()
        except duckdb.Error:
            return None
        if raw.num_rows != counted.records or raw.column_names != names:
            return None
        arrays, kinds = [], {}
        for name in names:
            text, kind = _decode(raw.column(name).combine_chunks())
            arrays.append(text)
            if kind is not None:
                kinds[name] = kind
        table = pa.Table.from_arrays(arrays, names=[column_name(n) for n in names])
        return Page(counted.records, table, kinds, _body=counted.body)


def _reference(body: bytes) -> Page:
    records = loads(body)
    if not isinstance(records, list):
        raise NotAnArray(type(records).__name__)
    return from_records(records)
