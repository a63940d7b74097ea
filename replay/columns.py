"""Column kinds of the served table: each renders a page, compares with a literal, sorts.

Rendering is lazy and vectorised: a column turns the rows of a page into a matrix of
pre-serialised ``,"key":value`` pieces (uint8, zero-padded), which the page assembler stacks and
compacts. Comparisons run on compact codes or integers, so filtering and ordering a million
rows stays a few numpy calls.
SQL semantics: a null never satisfies a comparison; nulls sort after every value.

Environment variables read here: none.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}
NULL_RANK = np.iinfo(np.int64).max
Transform = Callable[[Any], Any] | None


def fragment(prefix: bytes, value: Any) -> bytes:
    """``,"key":<json>`` for one value, or ``b""`` when the key is omitted (null)."""
    return b"" if value is None else b"," + prefix + orjson.dumps(value)


def pad_matrix(pieces: list[bytes], width: int | None = None) -> np.ndarray:
    """Byte strings as the rows of a zero-padded uint8 matrix (JSON never contains NUL)."""
    width = max([len(p) for p in pieces] + [width or 0])
    return np.array(pieces, dtype=f"S{max(width, 1)}").view(np.uint8).reshape(len(pieces), -1)


def quoted_matrix(prefix: bytes, text: np.ndarray) -> np.ndarray:
    """``,"key":"<text>"`` for every row of a uint8 text matrix (ASCII, no escaping needed)."""
    head = np.frombuffer(b"," + prefix + b'"', dtype=np.uint8)
    out = np.empty((len(text), len(head) + text.shape[1] + 1), dtype=np.uint8)
    out[:, : len(head)] = head
    out[:, len(head) : -1] = text
    out[:, -1] = ord('"')
    return out


def _digits(out: np.ndarray, col: int, values: np.ndarray, width: int) -> None:
    for i in range(width):
        out[:, col + i] = (values // 10 ** (width - 1 - i)) % 10 + ord("0")


def iso_matrix(ms: np.ndarray, fixed: bool) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS.mmm`` (+ ``Z`` when fixed) per row, as a uint8 matrix.

    Digit arithmetic is a few times faster than ``np.datetime_as_string`` on large pages.
    """
    days = (ms // 86_400_000).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    out = np.empty((len(ms), 24 if fixed else 23), dtype=np.uint8)
    out[:] = np.frombuffer(b"0000-00-00T00:00:00.000Z"[: out.shape[1]], dtype=np.uint8)
    _digits(out, 0, months.astype(np.int64) // 12 + 1970, 4)
    _digits(out, 5, months.astype(np.int64) % 12 + 1, 2)
    _digits(out, 8, (days - months.astype("datetime64[D]")).astype(np.int64) + 1, 2)
    in_day = ms % 86_400_000
    _digits(out, 11, in_day // 3_600_000, 2)
    _digits(out, 14, in_day // 60_000 % 60, 2)
    _digits(out, 17, in_day // 1000 % 60, 2)
    _digits(out, 20, in_day % 1000, 3)
    return out


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

    def pieces(self, idx: np.ndarray, prefix: bytes, transform: Transform = None) -> np.ndarray:
        """``,"key":value`` pieces of rows ``idx`` as a zero-padded uint8 matrix."""
        values = self.take(idx)
        if transform is not None:
            values = [None if v is None else transform(v) for v in values]
        return pad_matrix([fragment(prefix, v) for v in values])

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
        self.codes = codes.astype(np.int32, copy=False)  # lookups are small: halve the memory
        self.lookup = lookup
        self._fragments: dict[tuple[bytes, Transform], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, idx: np.ndarray) -> list[Any]:
        return self.lookup[self.codes[idx]].tolist()

    def pieces(self, idx: np.ndarray, prefix: bytes, transform: Transform = None) -> np.ndarray:
        table = self._fragments.get((prefix, transform))
        if table is None:
            values = [v if transform is None or v is None else transform(v) for v in self.lookup]
            table = pad_matrix([fragment(prefix, v) for v in values])
            self._fragments[(prefix, transform)] = table
        return table[self.codes[idx]]

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
    """Non-null ASCII text rendered from integers whose numeric order equals the text order.

    ``render`` maps an int64 array to a uint8 matrix holding one fixed-width text per row.
    """

    def __init__(self, numbers: np.ndarray, render: Callable[[np.ndarray], np.ndarray]) -> None:
        self.numbers = numbers
        self.render = render
        self._all: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    def _text(self, idx: np.ndarray | slice) -> np.ndarray:
        matrix = np.ascontiguousarray(self.render(self.numbers[idx]))
        return matrix.view(f"S{matrix.shape[1]}").ravel()

    def take(self, idx: np.ndarray) -> list[Any]:
        return self._text(idx).astype("U").tolist()

    def pieces(self, idx: np.ndarray, prefix: bytes, transform: Transform = None) -> np.ndarray:
        if transform is not None:
            return super().pieces(idx, prefix, transform)
        return quoted_matrix(prefix, self.render(self.numbers[idx]))

    def compare(self, op: str, literal: Any) -> np.ndarray:
        if not isinstance(literal, str):
            raise TypeMismatch("text")
        if self._all is None:
            self._all = self._text(slice(None))
        return np.asarray(OPS[op](self._all, literal.encode()), dtype=bool)

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
        return self._strings(idx).tolist()

    def _strings(self, idx: np.ndarray) -> np.ndarray:
        stamps = self.ms[idx].astype("datetime64[ms]")
        if self.fixed:
            return np.datetime_as_string(stamps, unit="ms", timezone="UTC")
        return np.datetime_as_string(stamps, unit="ms")

    def pieces(self, idx: np.ndarray, prefix: bytes, transform: Transform = None) -> np.ndarray:
        if transform is not None or not len(idx):
            return super().pieces(idx, prefix, transform)
        return quoted_matrix(prefix, iso_matrix(self.ms[idx], self.fixed))

    def compare(self, op: str, literal: Any) -> np.ndarray:
        if not isinstance(literal, np.datetime64):
            raise TypeMismatch(self.soda_type)
        return OPS[op](self.ms, literal.astype("datetime64[ms]").astype(np.int64))

    def sort_key(self) -> np.ndarray:
        return self.ms


class Point(Categorical):
    """GeoJSON point (longitude first), stored as codes over the distinct coordinate pairs."""

    soda_type = "point"

    def __init__(self, lat_milli: np.ndarray, lon_milli: np.ndarray, present: np.ndarray) -> None:
        pairs = np.where(present, lat_milli * 1_000_000 + (lon_milli + 500_000), -1)
        uniq, codes = np.unique(pairs, return_inverse=True)
        lookup = np.empty(len(uniq), dtype=object)
        lookup[:] = [
            None
            if p < 0
            else {
                "type": "Point",
                "coordinates": [(p % 1_000_000 - 500_000) / 1000, p // 1_000_000 / 1000],
            }
            for p in uniq.tolist()
        ]
        super().__init__(codes.ravel(), lookup)

    def compare(self, op: str, literal: Any) -> np.ndarray:
        raise TypeMismatch("point")

    def sort_key(self) -> np.ndarray:
        raise TypeMismatch("point")
