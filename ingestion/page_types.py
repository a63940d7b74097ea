"""A parsed SODA page, and the reference path that builds one from ``orjson``'s records.

Environment variables read here: none.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from ingestion.validation import records_to_table


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
