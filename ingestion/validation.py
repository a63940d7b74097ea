"""Records → text-only Arrow tables, and vectorised checks of what makes a record unloadable.

Every column lands as text (``location`` as JSON text, scalars of another JSON type as their
JSON text), so type drift in the source can never break a load. Checks run on whole Arrow
columns (a Python loop per row would cost more than the HTTP fetch); only a column that fails
a vectorised parse is re-checked value by value.

Environment variables read here: none.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from ingestion.socrata.settings import Bounds, DatasetSettings

_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


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


def as_text(value: Any) -> str | None:
    """Strings stay as they are; anything else (objects, numbers, booleans) becomes JSON text."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def from_text(value: str) -> Any:
    """Best-effort inverse of :func:`as_text` for objects such as ``location``."""
    if value[:1] in "{[":
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            pass
    return value


def _kind(value: Any) -> str:
    """The Socrata-like type of a non-string JSON value (drift detection)."""
    if isinstance(value, bool):
        return "checkbox"
    if isinstance(value, int | float):
        return "number"
    return "object"


def text_array(values: list[Any], kinds: dict[str, str] | None = None, name: str = "") -> pa.Array:
    """A string Arrow array; values of another type (drift, ``location``) are stringified.

    When ``kinds`` is given, the JSON type of the column's first non-string value is recorded
    under ``name`` (only on this slow path: string columns cost nothing extra).
    """
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if kinds is not None:
            other = next(v for v in values if v is not None and not isinstance(v, str))
            kinds[name] = _kind(other)
        return pa.array([as_text(v) for v in values], type=pa.string())


def records_to_table(
    records: list[dict[str, Any]], kinds: dict[str, str] | None = None
) -> pa.Table:
    """Turn JSON objects into a text-only Arrow table with landing column names.

    ``kinds`` (if given) collects API name -> JSON type of columns holding non-string values.
    """
    if not records:
        return pa.table({})
    # Socrata omits null keys per row: take the union, in the first record's order first.
    names = list(records[0])
    names += sorted(set().union(*records).difference(names))
    arrays = [text_array([row.get(name) for row in records], kinds, name) for name in names]
    return pa.Table.from_arrays(arrays, names=[column_name(n) for n in names])


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _bools(array: pa.Array | pa.ChunkedArray, null_as: bool) -> np.ndarray:
    return pc.fill_null(array, null_as).to_numpy(zero_copy_only=False)


def _timestamps(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.ChunkedArray | pa.Array]:
    """(parsable mask, values as naive ``timestamp[ms]``) of ISO floating or fixed (``Z``) text."""
    text = pc.replace_substring_regex(column, "Z$", "")
    try:
        parsed = pc.cast(text, pa.timestamp("ms"))
    except pa.ArrowInvalid:  # some value is bad: parse value by value (rare)
        values = [_timestamp_or_none(v) for v in text.to_pylist()]
        ok = np.array([v is not None for v in values], dtype=bool)
        return ok, pa.array(values, pa.timestamp("ms"))
    return _bools(pc.is_valid(column), False), parsed


def _timestamp_or_none(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def problem_masks(
    table: pa.Table, dataset: DatasetSettings, bounds: Bounds | None = None
) -> list[tuple[str, np.ndarray]]:
    """Each reason a row can be unloadable, with a boolean mask of the rows it applies to.

    The first mask is always the missing key's. With ``bounds``, a record that happened or
    changed after the end of the as-of day is unloadable too (it must never be published).
    """
    rows = table.num_rows

    def column(api: str) -> pa.ChunkedArray:
        name = column_name(api)
        if name in table.column_names:
            return table.column(name)
        return pa.chunked_array([pa.nulls(rows, pa.string())])

    key = column(dataset.key)
    blank = pc.equal(pc.utf8_trim_whitespace(key), "")
    masks = [(f"missing {dataset.key}", _bools(pc.or_kleene(pc.is_null(key), blank), True))]

    when = column(dataset.date_field)
    missing = _bools(pc.is_null(when), True)
    parsable, occurred = _timestamps(when)
    masks.append((f"missing {dataset.date_field}", missing))
    masks.append((f"unparsable {dataset.date_field}", ~missing & ~parsable))

    sentinels = pa.array(sorted(dataset.coordinate_sentinels), pa.string())
    for name in dataset.coordinate_fields:
        values = column(name)
        ok = pc.or_kleene(
            pc.is_in(values, value_set=sentinels), pc.match_substring_regex(values, _NUMBER)
        )
        bad = ~_bools(ok, True)  # null is a legitimate "no coordinates"
        # The regex accepts exponents that overflow float ("1e999"): check those few by hand.
        exponent = _bools(pc.match_substring_regex(values, "[eE]"), False) & ~bad
        if exponent.any():
            values_list = values.to_pylist()
            for i in np.flatnonzero(exponent):
                bad[i] = not _is_number(values_list[i])
        masks.append((f"non-numeric {name}", bad))

    cursor_ok, cursor = _timestamps(column(dataset.cursor))
    masks.append((f"missing or unparsable {dataset.cursor}", ~cursor_ok))
    if bounds is not None:
        day = bounds.as_of.isoformat()
        limit = pa.scalar(bounds.occurred_before, pa.timestamp("ms"))
        masks.append(
            (
                f"{dataset.date_field} after as-of {day}",
                _bools(pc.greater_equal(occurred, limit), False),
            )
        )
        limit = pa.scalar(bounds.cursor_before, pa.timestamp("ms"))
        masks.append(
            (f"{dataset.cursor} after as-of {day}", _bools(pc.greater_equal(cursor, limit), False))
        )
    return masks
