"""Column kinds of the served table: each renders a page, compares with a literal, sorts.

Rendering is lazy (only the rows of a page are turned into strings) and comparisons run on
compact codes or integers, so filtering and ordering a million rows stays a few numpy calls.
SQL semantics: a null never satisfies a comparison; nulls sort after every value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}
NULL_RANK = np.iinfo(np.int64).max


class TypeMismatch(ValueError):
    """A literal or an operation does not fit the column's type."""


class Column:
    """Base class: ``soda_type`` is the Socrata type announced in ``X-SODA2-Types``."""

    soda_type = "text"

    def __len__(self) -> int:
        raise NotImplementedError

    def take(self, idx: np.ndarray) -> list[Any]:
        """Rendered JSON values of rows ``idx`` (None = key omitted)."""
        raise NotImplementedError

    def compare(self, op: str, literal: Any) -> np.ndarray:
        """Boolean mask of rows where ``value <op> literal`` holds."""
        raise NotImplementedError

    def null_mask(self) -> np.ndarray:
        """Boolean mask of rows whose value is null."""
        return np.zeros(len(self), dtype=bool)

    def sort_key(self) -> np.ndarray:
        """int64 keys whose order is the column's order (nulls last)."""
        raise NotImplementedError


class Categorical(Column):
    """Text column stored as codes into a small lookup of strings (None entries = null)."""

    def __init__(self, codes: np.ndarray, lookup: np.ndarray) -> None:
        self.codes = codes
        self.lookup = lookup

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, idx: np.ndarray) -> list[Any]:
        return self.lookup[self.codes[idx]].tolist()

    def compare(self, op: str, literal: Any) -> np.ndarray:
        if not isinstance(literal, str):
            raise TypeMismatch("text")
        fn = OPS[op]
        table = np.array([v is not None and fn(v, literal) for v in self.lookup], dtype=bool)
        return table[self.codes]

    def null_mask(self) -> np.ndarray:
        return np.array([v is None for v in self.lookup], dtype=bool)[self.codes]

    def sort_key(self) -> np.ndarray:
        ranks = np.full(len(self.lookup), NULL_RANK, dtype=np.int64)
        present = [i for i, v in enumerate(self.lookup) if v is not None]
        for rank, i in enumerate(sorted(present, key=lambda i: self.lookup[i])):
            ranks[i] = rank
        return ranks[self.codes]


class Formatted(Column):
    """Non-null text rendered from an integer whose numeric order equals the text order."""

    def __init__(self, numbers: np.ndarray, fmt: Callable[[np.ndarray], list[str]]) -> None:
        self.numbers = numbers
        self.fmt = fmt
        self._all: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    def take(self, idx: np.ndarray) -> list[Any]:
        return self.fmt(self.numbers[idx])

    def compare(self, op: str, literal: Any) -> np.ndarray:
        if not isinstance(literal, str):
            raise TypeMismatch("text")
        if self._all is None:
            values = np.empty(len(self), dtype=object)
            values[:] = self.fmt(self.numbers)
            self._all = values
        return np.asarray(OPS[op](self._all, literal), dtype=bool)

    def sort_key(self) -> np.ndarray:
        return self.numbers.astype(np.int64)


class Timestamp(Column):
    """Epoch milliseconds; floating (local, no zone) or fixed (UTC, rendered with ``Z``)."""

    def __init__(self, ms: np.ndarray, fixed: bool) -> None:
        self.ms = ms
        self.fixed = fixed
        self.soda_type = "fixed_timestamp" if fixed else "floating_timestamp"

    def __len__(self) -> int:
        return len(self.ms)

    def take(self, idx: np.ndarray) -> list[Any]:
        stamps = self.ms[idx].astype("datetime64[ms]")
        if self.fixed:
            return np.datetime_as_string(stamps, unit="ms", timezone="UTC").tolist()
        return np.datetime_as_string(stamps, unit="ms").tolist()

    def compare(self, op: str, literal: Any) -> np.ndarray:
        if not isinstance(literal, np.datetime64):
            raise TypeMismatch(self.soda_type)
        return OPS[op](self.ms, literal.astype("datetime64[ms]").astype(np.int64))

    def sort_key(self) -> np.ndarray:
        return self.ms


class Point(Column):
    """GeoJSON point (longitude first) from milli-degree integers; ``present`` masks nulls."""

    soda_type = "point"

    def __init__(self, lat_milli: np.ndarray, lon_milli: np.ndarray, present: np.ndarray) -> None:
        self.lat_milli = lat_milli
        self.lon_milli = lon_milli
        self.present = present

    def __len__(self) -> int:
        return len(self.present)

    def take(self, idx: np.ndarray) -> list[Any]:
        lats = (self.lat_milli[idx] / 1000).tolist()
        lons = (self.lon_milli[idx] / 1000).tolist()
        return [
            {"type": "Point", "coordinates": [lon, lat]} if ok else None
            for lat, lon, ok in zip(lats, lons, self.present[idx].tolist(), strict=True)
        ]

    def compare(self, op: str, literal: Any) -> np.ndarray:
        raise TypeMismatch("point")

    def null_mask(self) -> np.ndarray:
        return ~self.present

    def sort_key(self) -> np.ndarray:
        raise TypeMismatch("point")
