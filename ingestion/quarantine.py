"""Validation of fetched records: good rows become Arrow tables, bad rows become rejections.

Nothing fetched is ever dropped silently: every record either lands in ``raw.incidents`` or in
``raw.incidents_rejected`` with a reason and its payload, so ``fetched == loaded + rejected``.
Arrow (every column as text) is the fast path into dlt: dicts with a nested ``location`` object
go through dlt's row-by-row normalizer at ~1.6k rows/s, Arrow tables at ~35k rows/s.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

if TYPE_CHECKING:  # ingestion.socrata imports this module
    from ingestion.socrata.settings import DatasetSettings

REJECTED_COLUMNS = ("reason", "payload", "case_number", "rejected_at")


def column_name(api_name: str) -> str:
    """Landing name of an API field: system fields ``:id`` → ``socrata_id`` etc."""
    if api_name.startswith(":"):
        return "socrata_" + api_name.lstrip(":@")
    return api_name


def api_name(landing_name: str) -> str:
    """Inverse of :func:`column_name` (``socrata_id`` → ``:id``)."""
    if landing_name.startswith("socrata_"):
        return ":" + landing_name.removeprefix("socrata_")
    return landing_name


def _from_text(value: str) -> Any:
    """Best-effort inverse of :func:`_as_text` for objects such as ``location``."""
    if value[:1] in "{[":
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            pass
    return value


def _as_text(value: Any) -> str | None:
    """Strings stay as they are; anything else (objects, numbers, booleans) becomes JSON text."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def text_array(values: list[Any]) -> pa.Array:
    """A string Arrow array; values of another type (drift, ``location``) are stringified."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_as_text(v) for v in values], type=pa.string())


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        return False
    return True


def _is_coordinate(value: Any, sentinels: frozenset[str]) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    if not isinstance(value, str):
        return False
    if value in sentinels:
        return True
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


@dataclass
class Rejection:
    """One quarantined record."""

    reason: str
    payload: str
    case_number: str | None


def problems(record: Any, dataset: DatasetSettings) -> list[str]:
    """Why a record cannot be loaded (empty when it is fine)."""
    if not isinstance(record, dict):
        return [f"record is a JSON {type(record).__name__}, not an object"]
    found = []
    key = record.get(dataset.key)
    if not isinstance(key, str) or not key.strip():
        found.append(f"missing {dataset.key}")
    when = record.get(dataset.date_field)
    if when is None:
        found.append(f"missing {dataset.date_field}")
    elif not _is_timestamp(when):
        found.append(f"unparsable {dataset.date_field}")
    for name in dataset.coordinate_fields:
        if not _is_coordinate(record.get(name), dataset.coordinate_sentinels):
            found.append(f"non-numeric {name}")
    if not _is_timestamp(record.get(dataset.cursor)):
        found.append(f"missing or unparsable {dataset.cursor}")
    return found


def _payload(record: Any) -> str:
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode()


def _key_of(record: Any, dataset: DatasetSettings) -> str | None:
    key = record.get(dataset.key) if isinstance(record, dict) else None
    return key if isinstance(key, str) and key.strip() else None


def rows_to_table(rows: list[dict[str, Any]], dataset: DatasetSettings) -> pa.Table:
    """Turn validated records into a text-only Arrow table with landing column names."""
    names: dict[str, None] = {}
    for row in rows:  # union of keys in first-seen order: Socrata omits null keys per row
        names.update(dict.fromkeys(row))
    fields, arrays = [], []
    for api_name in names:
        arrays.append(text_array([row.get(api_name) for row in rows]))
        # The key is never null here; saying so keeps dlt's primary-key hint and Arrow in step.
        fields.append(pa.field(column_name(api_name), pa.string(), api_name != dataset.key))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


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
        fetched: Records received from the API.
        rejections: Records that failed validation (duplicates are added by :meth:`tables`).
        duplicates: Records superseded by another version of their key in this fetch.
        max_cursor: Highest cursor value among accepted records (the next run's bookmark).
    """

    dataset: DatasetSettings
    fetched: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    max_cursor: str | None = None
    _pages: list[pa.Table] = field(default_factory=list)
    # key -> (cursor, page number, row number) of the version kept so far
    _best: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    _losers: dict[int, list[int]] = field(default_factory=dict)

    def add_page(self, records: list[Any]) -> None:
        """Validate one page of records and buffer its good rows."""
        self.fetched += len(records)
        dataset, good = self.dataset, []
        page_no = len(self._pages)
        for record in records:
            found = problems(record, dataset)
            if found:
                self.rejections.append(
                    Rejection("; ".join(found), _payload(record), _key_of(record, dataset))
                )
                continue
            key, cursor = record[dataset.key], record[dataset.cursor]
            kept = self._best.get(key)
            if kept is None or cursor > kept[0]:
                if kept is not None:
                    self._losers.setdefault(kept[1], []).append(kept[2])
                    self.duplicates += 1
                self._best[key] = (cursor, page_no, len(good))
            else:
                self._losers.setdefault(page_no, []).append(len(good))
                self.duplicates += 1
            good.append(record)
            if self.max_cursor is None or cursor > self.max_cursor:
                self.max_cursor = cursor
        self._pages.append(rows_to_table(good, dataset))

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
            record = {api_name(k): _from_text(v) for k, v in row.items() if v is not None}
            reason = f"duplicate {key} in this fetch; a version with a later or equal "
            reason += f"{self.dataset.cursor} was kept"
            self.rejections.append(Rejection(reason, _payload(record), row[key]))
