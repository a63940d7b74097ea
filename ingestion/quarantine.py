"""Validation of fetched records: good rows become Arrow tables, bad rows become rejections.

Nothing fetched is ever dropped silently: every record either lands in ``raw.incidents`` or in
``raw.incidents_rejected`` with a reason and its payload, so ``fetched == loaded + rejected``.
Arrow (every column as text) is the fast path into dlt: dicts with a nested ``location`` object
go through dlt's row-by-row normalizer at ~1.6k rows/s, Arrow tables at ~35k rows/s.

Environment variables read here: none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa

from ingestion.validation import api_name, column_name, from_text, problem_masks, records_to_table

if TYPE_CHECKING:  # ingestion.socrata imports this module
    from ingestion.socrata.settings import Bounds, DatasetSettings

REJECTED_COLUMNS = ("reason", "payload", "case_number", "rejected_at")


@dataclass
class Rejection:
    """One quarantined record."""

    reason: str
    payload: str
    case_number: str | None


def _payload(record: Any) -> str:
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode()


def rejected_table(rejections: list[Rejection], rejected_at: datetime) -> pa.Table:
    """Arrow table for ``raw.incidents_rejected``."""
    return pa.table(
        {
            "reason": pa.array([r.reason for r in rejections], pa.string()),
            "payload": pa.array([r.payload for r in rejections], pa.string()),
            "case_number": pa.array([r.case_number for r in rejections], pa.string()),
            "rejected_at": pa.array([rejected_at] * len(rejections), pa.timestamp("us", tz="UTC")),
        }
    )


@dataclass
class FetchQuarantine:
    """Validates every page of one fetch and removes duplicate keys across the whole fetch.

    Pages are kept (as compact Arrow tables) until the fetch ends, because a later page can
    hold a newer version of a key already seen: the newest ``cursor`` wins, ties keep the first.

    Attributes:
        dataset: Fetch settings of the dataset.
        bounds: The as-of bounds: records that happened or changed after the as-of day are
            quarantined (None: no bound, only for tests of the other rules).
        fetched: Records received from the API.
        rejections: Records that failed validation (duplicates are added by :meth:`tables`).
        duplicates: Records superseded by another version of their key in this fetch.
        future: Records quarantined because their incident time is after the as-of day.
        value_kinds: API name -> JSON type of columns that held non-string values.
        max_cursor: Highest cursor value among accepted records (the next run's bookmark).
    """

    dataset: DatasetSettings
    bounds: Bounds | None = None
    fetched: int = 0
    duplicates: int = 0
    future: int = 0
    value_kinds: dict[str, str] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    max_cursor: str | None = None
    _pages: list[pa.Table] = field(default_factory=list)
    # key -> (cursor, page number, row number) of the version kept so far
    _best: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    _losers: dict[int, list[int]] = field(default_factory=dict)

    def add_page(self, records: list[Any]) -> None:
        """Validate one page of records and buffer its good rows."""
        self.fetched += len(records)
        objects = [r for r in records if type(r) is dict]
        if len(objects) < len(records):
            for record in records:
                if type(record) is not dict:
                    reason = f"record is a JSON {type(record).__name__}, not an object"
                    self.rejections.append(Rejection(reason, _payload(record), None))
        table = records_to_table(objects, self.value_kinds)
        if not table.num_rows:
            return
        table = self._drop_invalid(table, objects)
        self._deduplicate(table)

    def _drop_invalid(self, table: pa.Table, objects: list[dict[str, Any]]) -> pa.Table:
        masks = problem_masks(table, self.dataset, self.bounds)
        bad = np.logical_or.reduce([mask for _, mask in masks])
        future = f"{self.dataset.date_field} after as-of"
        self.future += sum(int(mask.sum()) for why, mask in masks if why.startswith(future))
        if bad.any():
            key_name, key_invalid = column_name(self.dataset.key), masks[0][1]
            keys = table.column(key_name).to_pylist()
            for row in np.flatnonzero(bad):
                reason = "; ".join(why for why, mask in masks if mask[row])
                key = None if key_invalid[row] else keys[row]
                self.rejections.append(Rejection(reason, _payload(objects[row]), key))
            table = table.filter(pa.array(~bad))
        # The key is never null from here on; saying so keeps dlt's primary-key hint in step.
        schema = pa.schema(
            [f.with_nullable(f.name != column_name(self.dataset.key)) for f in table.schema]
        )
        return table.cast(schema)

    def _deduplicate(self, table: pa.Table) -> None:
        page_no = len(self._pages)
        keys = table.column(column_name(self.dataset.key)).to_pylist()
        cursors = table.column(column_name(self.dataset.cursor)).to_pylist()
        best, losers = self._best, self._losers
        for row, (key, cursor) in enumerate(zip(keys, cursors, strict=True)):
            kept = best.get(key)
            if kept is None:
                best[key] = (cursor, page_no, row)
            elif cursor > kept[0]:  # same fixed-timestamp format: text order is time order
                losers.setdefault(kept[1], []).append(kept[2])
                best[key] = (cursor, page_no, row)
                self.duplicates += 1
            else:
                losers.setdefault(page_no, []).append(row)
                self.duplicates += 1
        if cursors:
            top = max(cursors)
            if self.max_cursor is None or top > self.max_cursor:
                self.max_cursor = top
        self._pages.append(table)

    def tables(self) -> Iterator[pa.Table]:
        """Yield the buffered pages without superseded duplicates (which become rejections)."""
        while self._pages:
            page_no = len(self._pages) - 1
            table = self._pages.pop()  # release memory as pages go to dlt
            losers = self._losers.pop(page_no, [])
            if losers:
                self._reject_duplicates(table.take(losers))
                mask = [True] * table.num_rows
                for row in losers:
                    mask[row] = False
                table = table.filter(pa.array(mask))
            if table.num_rows:
                yield table

    def _reject_duplicates(self, rows: pa.Table) -> None:
        key = self.dataset.key
        for row in rows.to_pylist():
            # Rebuilt from the landed text (the original page is gone): API names, objects
            # parsed back; scalars that drifted to another JSON type stay as text.
            record = {api_name(k): from_text(v) for k, v in row.items() if v is not None}
            reason = f"duplicate {key} in this fetch; a version with a later or equal "
            reason += f"{self.dataset.cursor} was kept"
            self.rejections.append(Rejection(reason, _payload(record), row[key]))
