"""One SODA page (a JSON array of records) → text-only Arrow columns, without Python per cell.

The fast path lets DuckDB parse the page once (it releases the GIL, so pages are parsed in a
worker thread while the pipeline works on an earlier one and the next page downloads): the
page's bytes alone give its record count (:meth:`PageParser.count`: all the paginator needs),
then :meth:`PageParser.finish` reads every candidate key as DuckDB ``JSON``, proves from the
bytes that no key was missed, and turns the text into the landing text
(:mod:`ingestion.page_decode`): strings lose their quotes (the few holding an escape are
decoded one by one), anything else keeps its compact JSON text, what ``orjson.dumps`` gives.
Where that proof fails, a first DuckDB pass lists every record's keys (the two-pass path).

Pages neither covers exactly (an element that is not an object, a key repeated in a record,
anything DuckDB refuses) take the reference path: ``orjson.loads`` and
:func:`~ingestion.validation.records_to_table`, which also raises the errors for a body that is
not a JSON array. All paths give the same table (tested on every replay fault and the real
samples). One known difference: a key repeated *inside* a nested object (``location``) keeps
both copies in the landed JSON text, where orjson keeps the last; Socrata never serves that.

Environment variables read here: none.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from ingestion.page_decode import _decode as _decode  # re-exported (tests)
from ingestion.page_decode import landing_table
from ingestion.page_scan import colon_total, count_objects, exact_names, first_keys
from ingestion.page_types import NotAnArray as NotAnArray
from ingestion.page_types import Page as Page
from ingestion.page_types import from_records as from_records
from ingestion.page_types import loads as loads
from ingestion.page_types import payload as payload

_PAGE_PREFIX = "body-"
_PAGE_GLOB = "body-*.json"
PARSE_MEMORY = "512MB"  # DuckDB's own buffers while parsing one page (results are Arrow)


@dataclass
class Counted:
    """A page whose records are counted (what the paginator needs), not yet turned into Arrow.

    Attributes:
        records: Elements in the page's array.
        page: The finished page when counting already made it (reference path, empty page).
        names: API names in landing order (two-pass path), for :meth:`PageParser.finish`.
        path: The page's own file, read by :meth:`PageParser.finish` and then removed (the
            one-pass path writes it in :meth:`PageParser.finish`).
        where: The redacted URL it came from (for the error of a page that fails late).
        fields: Names the response announced (``X-SODA2-Fields``), or None (one-pass path).
    """

    records: int
    body: bytes = field(repr=False)
    page: Page | None = None
    names: list[str] = field(default_factory=list)
    path: Path | None = None
    where: str = ""
    fields: list[str] | None = None

    def __len__(self) -> int:
        return self.records


class CountChanged(ValueError):
    """Parsing found another number of records than counting did (the paginator used it)."""


class PageParser:
    """Parses pages with DuckDB, each step on its own connection (one thread each).

    :meth:`count` is all the paginator needs to request the next page; :meth:`finish` (the
    values) then runs in another thread while that page downloads. Each page gets its own file
    in ``workdir``, removed once finished.

    One pass (the common case): :meth:`count` counts the elements from the page's bytes
    (:func:`~ingestion.page_scan.count_objects`, no JSON parse); :meth:`finish` reads every
    candidate name (the first record's keys, the announced fields, the last page's names) as
    ``JSON`` in one DuckDB pass, and keeps the result only if the page's colons are exactly
    those of the keys and values read: a key outside the candidates, or one whose value is
    null (DuckDB reads it as absent), leaves colons unaccounted for. Anything else (a doubt,
    an element that is not an object, a DuckDB error) takes the two-pass path, where a first
    pass lists each record's keys; the reference path is behind both.

    Args:
        workdir: A private directory for the page files DuckDB reads.
    """

    def __init__(self, workdir: Path) -> None:
        self._dir = workdir
        self._serial = itertools.count()
        self._counter: duckdb.DuckDBPyConnection | None = None
        self._reader: duckdb.DuckDBPyConnection | None = None
        self._last: list[str] = []  # the last finished page's names (finish's thread only)

    @staticmethod
    def _connect() -> duckdb.DuckDBPyConnection:
        return duckdb.connect(config={"threads": 1, "memory_limit": PARSE_MEMORY})

    def close(self) -> None:
        # Not closed here: a worker thread may still be parsing a page nobody will read; the
        # connections go when their last user does.
        self._counter = self._reader = None
        for path in self._dir.glob(_PAGE_GLOB):
            path.unlink(missing_ok=True)

    def parse(self, body: bytes, fields: list[str] | None = None) -> Page:
        """Parse one response body (raises :class:`NotAnArray` or ``orjson.JSONDecodeError``)."""
        return self.finish(self.count(body, fields))

    def count(self, body: bytes, fields: list[str] | None = None) -> Counted:
        """Count the records of one body; the errors of :meth:`parse` are raised here, except
        for a body whose brackets and quotes balance but whose JSON is invalid (``tru``): no
        JSON parse happens here on the one-pass path, so :meth:`finish` raises that one.

        ``fields``: the names the response announced, if any (candidates for the one pass).
        """
        counted = None
        if body.lstrip()[:1] == b"[":
            records = count_objects(body)
            if records is not None:  # the page's file is written by finish, off the fetch
                counted = Counted(records, body, fields=list(fields or ()))
            else:
                counted = self._count(body, self._write(body))
        if counted is None:
            page = _reference(body)
            counted = Counted(page.records, body, page=page)
        return counted

    def finish(self, counted: Counted) -> Page:
        """The page of a counted body (the reference path when DuckDB cannot read it exactly)."""
        if counted.page is not None:
            return counted.page
        try:
            page = self._finish(counted)
        finally:
            if counted.path is not None:
                counted.path.unlink(missing_ok=True)
        page = page if page is not None else _reference(counted.body)
        if page.records != counted.records:
            raise CountChanged(f"{counted.records} records counted, {page.records} parsed")
        return page

    def _finish(self, counted: Counted) -> Page | None:
        if counted.fields is None:
            return self._read(counted)
        # Written here, in the parse thread: the fetch thread requests the next page sooner.
        counted.path = self._write(counted.body)
        page = self._read_once(counted)
        if page is None:  # not sure: the two passes, as without a count from the bytes
            assert counted.path is not None
            two = self._count(counted.body, counted.path)
            page = None if two is None else two.page or self._read(two)
        return page

    def _write(self, body: bytes) -> Path:
        path = self._dir / f"{_PAGE_PREFIX}{next(self._serial):06d}.json"
        path.write_bytes(body)
        return path

    def _count(self, body: bytes, path: Path) -> Counted | None:
        """Keys and count by DuckDB, or None when the fast path cannot give the reference's."""
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

    def _columns(
        self, path: Path, names: list[str], records: Literal["true"] | None = None
    ) -> pa.Table | None:
        reader = self._reader = self._reader or self._connect()  # local: close() may clear it
        columns: dict[str, str] = {n: "JSON" for n in names}
        try:
            return reader.read_json(
                str(path), format="array", columns=columns, records=records
            ).to_arrow_table()
        except duckdb.Error:
            return None

    def _read(self, counted: Counted) -> Page | None:
        names = counted.names
        raw = self._columns(counted.path, names)  # type: ignore[arg-type]
        if raw is None or raw.num_rows != counted.records or raw.column_names != names:
            return None
        self._last = names
        return _page(counted, raw, names)

    def _read_once(self, counted: Counted) -> Page | None:
        """One DuckDB pass over the candidate names; None unless the colons prove it exact."""
        first, colons = first_keys(counted.body), colon_total(counted.body)
        if first is None or colons is None:
            return None
        candidates = list(dict.fromkeys([*first, *(counted.fields or ()), *self._last]))
        # records: an element that is not an object is an error, never a row
        raw = self._columns(counted.path, candidates, records="true")  # type: ignore[arg-type]
        if raw is None or raw.num_rows != counted.records:
            return None
        names = exact_names(raw, first, colons)
        if names is None:
            return None
        self._last = counted.names = names
        return _page(counted, raw, names)


def _page(counted: Counted, raw: pa.Table, names: list[str]) -> Page:
    table, kinds = landing_table(raw, names)
    return Page(counted.records, table, kinds, _body=counted.body)


def _reference(body: bytes) -> Page:
    records = loads(body)
    if not isinstance(records, list):
        raise NotAnArray(type(records).__name__)
    return from_records(records)
