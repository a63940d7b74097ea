"""Run one SODA request against a published table: validate, filter, order, page, render.

Filtering and ordering are numpy masks and ``lexsort`` over compact keys; the (where, order)
result is memoised on the table so paging through it costs one slice per page.

Environment variables read here: none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import orjson

from replay import geo
from replay.columns import Column, Timestamp, TypeMismatch, fragment
from replay.faults import DUPLICATES_PER_PAGE
from replay.record_faults import (
    FUTURE_KIND,
    FUTURE_SHIFT_MS,
    MALFORMED,
    fault_kinds,
    replace_pieces,
)
from replay.soql import (
    BoolOp,
    Compare,
    IsNull,
    SoqlError,
    parse_order,
    parse_select,
    parse_where,
    where_columns,
)
from replay.table import Table

MAX_LIMIT = 50_000
DEFAULT_LIMIT = 1000
RENDER_CHUNK = 8192
_SUPPORTED = {"$select", "$where", "$order", "$limit", "$offset", "$$app_token"}
_TS = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?(Z|[+-]00:?00)?$"
)


@dataclass
class Result:
    """A rendered page and the schema headers that describe it."""

    body: bytes
    fields: list[str]
    types: list[str]
    rows: int


def schema(faults: frozenset[str]) -> dict[str, str]:
    """Served user fields and their Socrata types under the given faults."""
    fields = dict(geo.FIELDS)
    if "drift_new_column" in faults:
        fields.update(geo.DRIFT_FIELDS)
    if "drift_type_change" in faults:
        fields["hour_of_day"] = "number"
    return fields


def _timestamp(column: str, col: Timestamp, text: str) -> np.datetime64:
    m = _TS.match(text)
    if not m or (m.group(3) and not col.fixed):
        raise SoqlError(
            f"Type mismatch: '{text}' is not a valid {col.soda_type} for column {column}",
            "query.soql.type-mismatch",
            column=column,
        )
    try:
        return np.datetime64(f"{m.group(1)}T{m.group(2) or '00:00'}", "ms")
    except ValueError as exc:
        raise SoqlError(
            f"Type mismatch: '{text}' is not a valid timestamp", "query.soql.type-mismatch"
        ) from exc


def _mask(node: object, cols: dict[str, Column]) -> np.ndarray:
    if isinstance(node, BoolOp):
        masks = [_mask(arg, cols) for arg in node.args]
        if node.op == "not":
            return ~masks[0]
        return np.logical_and.reduce(masks) if node.op == "and" else np.logical_or.reduce(masks)
    assert isinstance(node, Compare | IsNull)
    col = cols[node.column]
    if isinstance(node, IsNull):
        nulls = col.null_mask()
        return ~nulls if node.negated else nulls
    assert isinstance(node, Compare)
    value: object = node.value
    if isinstance(col, Timestamp) and isinstance(value, str):
        value = _timestamp(node.column, col, value)
    try:
        return col.compare(node.op, value)
    except TypeMismatch as exc:
        raise SoqlError(
            f"Type mismatch: cannot compare {exc} column {node.column} with {node.value!r}",
            "query.soql.type-mismatch",
            column=node.column,
        ) from exc


def _check(names: list[str], known: set[str], dataset: str) -> None:
    for name in names:
        if name not in known:
            raise SoqlError(
                f"No such column: {name}", "query.soql.no-such-column", column=name, dataset=dataset
            )


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise SoqlError(f"Invalid {name}: {raw!r} is not a non-negative integer")
    return int(raw)


def _selection(
    params: dict[str, str], fields: dict[str, str], known: set[str], dataset_id: str
) -> list[str]:
    out: list[str] = []
    for item in parse_select(params.get("$select", "*")):
        names = {"*": list(fields), ":*": [f for f, _ in geo.SYSTEM_FIELDS]}.get(item, [item])
        _check(names, known, dataset_id)
        out += [n for n in names if n not in out]
    return out


def _indices(table: Table, params: dict[str, str], known: set[str], dataset_id: str) -> np.ndarray:
    """Row indices matching ``$where`` (and plain equality filters), in ``$order`` order."""
    filters = [(k, v) for k, v in sorted(params.items()) if not k.startswith("$")]
    _check([k for k, _ in filters], known, dataset_id)
    where = params.get("$where", "").strip()
    tree = parse_where(where) if where else None
    if tree is not None:
        _check(where_columns(tree), known, dataset_id)
    order = parse_order(params["$order"]) if params.get("$order", "").strip() else []
    _check([c for c, _ in order], known, dataset_id)
    if any(table.columns[c].soda_type in ("point", "location") for c, _ in order):
        raise SoqlError("Cannot order by a point column", "query.soql.type-mismatch")

    def compute() -> np.ndarray:
        mask = np.ones(len(table), dtype=bool)
        for column, value in filters:
            mask &= _mask(Compare(column, "=", value), table.columns)
        if tree is not None:
            mask &= _mask(tree, table.columns)
        if not order:
            return np.flatnonzero(mask)
        keys = []
        for column, desc in reversed(order):  # lexsort: last key is the primary one
            key = table.columns[column].sort_key()
            keys.append(-key if desc else key)
        perm = np.lexsort(keys) if len(keys) > 1 else np.argsort(keys[0], kind="stable")
        return perm[mask[perm]]

    return table.cached((tuple(filters), where, tuple(order)), compute)


def _hour(value: str) -> int:
    return int(value)


def _number(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:  # the 'UNKNOWN' sentinel stays a string
        return value


def _render(
    table: Table,
    idx: np.ndarray,
    select: list[str],
    faults: frozenset[str],
    kinds: np.ndarray | None,
) -> bytes:
    """Serialise rows ``idx`` as a JSON array, ``RENDER_CHUNK`` rows at a time."""
    if not len(idx):
        return b"[]"
    chunks = [
        _render_chunk(
            table,
            idx[i : i + RENDER_CHUNK],
            select,
            faults,
            None if kinds is None else kinds[i : i + RENDER_CHUNK],
        )
        for i in range(0, len(idx), RENDER_CHUNK)
    ]
    return b"[" + b",".join(chunks) + b"]"


def _render_chunk(
    table: Table,
    idx: np.ndarray,
    select: list[str],
    faults: frozenset[str],
    kinds: np.ndarray | None,
) -> bytes:
    """Stack every column's zero-padded ``,"key":value`` pieces, then squeeze out the padding."""
    retyped = {"hour_of_day": _hour, "latitude": _number, "longitude": _number}
    n = len(idx)
    parts = [np.full((n, 1), ord("{"), dtype=np.uint8)]
    for name in select:
        transform = retyped.get(name) if "drift_type_change" in faults else None
        prefix = orjson.dumps(name) + b":"
        column = table.columns[name]
        part = column.pieces(idx, prefix, transform)
        for kind, bad_name, bad in MALFORMED:
            hit = (
                np.flatnonzero(kinds == kind)
                if kinds is not None and name == bad_name
                else np.empty(0, dtype=np.intp)
            )
            if len(hit):
                part = replace_pieces(part, hit, [fragment(prefix, bad)] * len(hit))
        if kinds is not None and name == "incident_datetime" and isinstance(column, Timestamp):
            hit = np.flatnonzero(kinds == FUTURE_KIND)
            if len(hit):
                ahead = (column.ms[idx[hit]] + FUTURE_SHIFT_MS).astype("datetime64[ms]")
                stamps = np.datetime_as_string(ahead, unit="ms").tolist()
                part = replace_pieces(part, hit, [fragment(prefix, s) for s in stamps])
        parts.append(part)
    # Pieces carry a leading comma: blank it in each row's first non-empty piece.
    pending = np.ones(n, dtype=bool)
    for part in parts[1:]:
        present = part[:, 0] != 0
        part[pending & present, 0] = 0
        pending &= ~present
    parts.append(np.full((n, 2), (ord("}"), ord(",")), dtype=np.uint8))
    flat = np.hstack(parts).ravel()
    return flat[flat != 0][:-1].tobytes()  # drop the trailing row separator


def run_query(
    table: Table,
    params: dict[str, str],
    faults: frozenset[str],
    fields: dict[str, str] | None = None,
    dataset_id: str = geo.DATASET_ID,
) -> Result:
    """Answer one ``/resource`` request, raising SoqlError for a bad query.

    ``fields`` are the served user fields and their types (default: the synthetic city's).
    """
    for name in params:
        if name.startswith("$") and name not in _SUPPORTED:
            raise SoqlError(f"Parameter {name} is not supported by the replay API")
    fields = schema(faults) if fields is None else fields
    known = set(fields) | {f for f, _ in geo.SYSTEM_FIELDS}
    limit = _int(params, "$limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise SoqlError(
            f"$limit {limit} exceeds the maximum of {MAX_LIMIT}",
            "query.execution.limit-exceeded",
            limit=str(limit),
        )
    offset = _int(params, "$offset", 0)
    select = _selection(params, fields, known, dataset_id)
    matched = _indices(table, params, known, dataset_id)
    window = matched[offset : offset + limit]
    if "duplicates" in faults and len(window):
        if offset > 0:  # the first rows of this page repeat the last rows of the previous one
            window = matched[max(0, offset - DUPLICATES_PER_PAGE) : offset + limit]
        elif len(window) < limit:  # a one-page answer repeats its first rows at its end
            window = np.concatenate([window, window[:DUPLICATES_PER_PAGE]])[:limit]
    kinds = fault_kinds(table, window, faults, offset == 0)
    types = dict(geo.SYSTEM_FIELDS) | fields
    return Result(
        _render(table, window, select, faults, kinds),
        select,
        [types[f] for f in select],
        len(window),
    )
