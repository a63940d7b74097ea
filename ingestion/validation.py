"""Records → text-only Arrow tables, and vectorised checks of what makes a record unloadable.

Every column lands as text (``location`` as JSON text, scalars of another JSON type as their
JSON text), so type drift in the source can never break a load. Checks run on whole Arrow
columns (a Python loop per row would cost more than the HTTP fetch); only a column that fails
a vectorised parse is re-checked value by value.
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
    from ingestion.socrata.settings import DatasetSettings

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


def text_array(values: list[Any]) -> pa.Array:
    """A string Arrow array; values of another type (drift, ``location``) are stringified."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([as_text(v) for v in values], type=pa.string())


def records_to_table(records: list[dict[str, Any]]) -> pa.Table:
    """Turn JSON objects into a text-only Arrow table with landing column names."""
    if not records:
        return pa.table({})
    # Socrata omits null keys per row: take the union, in the first record's order first.
    names = list(records[0])
    names += sorted(set().union(*records).difference(names))
    arrays = [text_array([row.get(name) for row in records]) for name in names]
    return pa.Table.from_arrays(arrays, names=[column_name(n) for n in names])


def _is_timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        return False
    return True


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _bools(array: pa.Array | pa.ChunkedArray, null_as: bool) -> np.ndarray:
    return pc.fill_null(array, null_as).to_numpy(zero_copy_only=False)


def _parsable_timestamps(column: pa.ChunkedArray) -> np.ndarray:
    """True where the value parses as an ISO timestamp (floating, or fixed with ``Z``)."""
    try:
        pc.cast(pc.replace_substring_regex(column, "Z$", ""), pa.timestamp("ms"))
    except pa.ArrowInvalid:  # some value is bad: find which ones
        return np.array([v is not None and _is_timestamp(v) for v in column.to_pylist()])
    return _bools(pc.is_valid(column), False)


def problem_masks(table: pa.Table, dataset: DatasetSettings) -> list[tuple[str, np.ndarray]]:
    """Each reason a row can be unloadable, with a boolean mask of the rows it applies to."""
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
    masks.append((f"missing {dataset.date_field}", missing))
    masks.append((f"unparsable {dataset.date_field}", ~missing & ~_parsable_timestamps(when)))

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

    cursor = column(dataset.cursor)
    masks.append((f"missing or unparsable {dataset.cursor}", ~_parsable_timestamps(cursor)))
    return masks
