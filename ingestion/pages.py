"""One SODA page (a JSON array of records) → text-only Arrow columns, without Python per cell.

The fast path lets DuckDB parse the page (it releases the GIL, so the next page is parsed in
the prefetch thread while the pipeline works on this one): one pass lists each record's keys,
a second reads every key as DuckDB ``JSON``, whose text is then turned into the landing text
with Arrow compute: strings lose their quotes (the few holding an escape are decoded one by
one), anything else keeps its compact JSON text, exactly what ``orjson.dumps`` gives.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.validation import column_name, records_to_table

# First character of a non-string JSON value's text -> its Socrata-like kind (drift detection).
_KINDS = {"{": "object", "[": "object", "t": "checkbox", "f": "checkbox"}
_PAGE_FILE = "page.json"
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
    """DuckDB JSON text of one column → landing text, and the kind of its first non-string."""
    quoted = pc.fill_null(pc.starts_with(column, '"'), True)
    all_quoted = pc.all(quoted).as_py()
    # Byte slicing is safe: the quotes are one byte each, and what is between stays UTF-8.
    inner = pc.binary_slice(column.cast(pa.binary()), 1, -1).cast(pa.string())
    text = inner if all_quoted else pc.if_else(quoted, inner, column)
    escaped = pc.and_(quoted, pc.fill_null(pc.match_substring(column, "\\"), False))
    if pc.any(escaped).as_py():
        rows = pc.indices_nonzero(escaped)
        decoded = [orjson.loads(v) for v in pc.take(column, rows).to_pylist()]
        text = pc.replace_with_mask(text, escaped, pa.array(decoded, pa.string()))
    kind = None
    if not all_quoted:
        first = pc.take(column, pc.indices_nonzero(pc.invert(quoted)))[0].as_py()
        kind = _KINDS.get(first[:1], "number")
    return text, kind


class PageParser:
    """Parses pages with one DuckDB connection (one thread) and a scratch file in ``workdir``.

    Args:
        workdir: A private directory for the page file DuckDB reads.
    """

    def __init__(self, workdir: Path) -> None:
        self._path = workdir / _PAGE_FILE
        self._con: duckdb.DuckDBPyConnection | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(config={"threads": 1, "memory_limit": PARSE_MEMORY})
        return self._con

    def close(self) -> None:
        # Not closed here: the prefetch thread may still be parsing a page nobody will read;
        # the connection goes when its last user does.
        self._con = None
        self._path.unlink(missing_ok=True)

    def parse(self, body: bytes) -> Page:
        """Parse one response body (raises :class:`NotAnArray` or ``orjson.JSONDecodeError``)."""
        page = self._fast(body) if body.lstrip()[:1] == b"[" else None
        if page is not None:
            return page
        records = loads(body)
        if not isinstance(records, list):
            raise NotAnArray(type(records).__name__)
        return from_records(records)

    def _fast(self, body: bytes) -> Page | None:
        """The DuckDB path, or None when it cannot give exactly the reference's table."""
        self._path.write_bytes(body)
        con = self._connection()
        try:
            con.execute(
                # json_type only where json_keys cannot tell: a non-object has no keys
                "create or replace temp table page_keys as "
                "select row_number() over () as i, keys, "
                "case when len(keys) > 0 then true else json_type(json) = 'OBJECT' end "
                "as is_object from (select json, json_keys(json) as keys "
                "from read_json_objects(?, format = 'array'))",
                [str(self._path)],
            )
            records, objects = con.execute(
                "select count(*), count(*) filter (where is_object) from page_keys"
            ).fetchone() or (0, 0)
            if not records:
                return Page(0, pa.table({}), _body=body)
            if objects < records:
                return None
            (first,) = con.execute("select keys from page_keys where i = 1").fetchone() or ([],)
            others = con.execute("select distinct unnest(keys) from page_keys").fetchall()
            # read_json refuses a record that repeats a key (orjson would keep the last value),
            # so such a page takes the reference path.
            first = list(dict.fromkeys(first))
            names = list(first) + sorted({k for (k,) in others}.difference(first))
            raw = con.read_json(
                str(self._path), format="array", columns={n: "JSON" for n in names}
            ).to_arrow_table()
        except duckdb.Error:
            return None
        if raw.num_rows != records or raw.column_names != names:
            return None
        arrays, kinds = [], {}
        for name in names:
            text, kind = _decode(raw.column(name).combine_chunks())
            arrays.append(text)
            if kind is not None:
                kinds[name] = kind
        table = pa.Table.from_arrays(arrays, names=[column_name(n) for n in names])
        return Page(records, table, kinds, _body=body)
