"""A portal CSV export served as a Socrata dataset by the replay API (``--from-file``).

Exports differ from what the SODA API returns in three ways, undone here:

- column names: display names become API field names: lower case, every run of characters
  other than letters and digits becomes ``_`` ("Police Districts" -> ``police_districts``,
  "FBI Code" -> ``fbi_code``); names already in API form (``:@computed_region_x``) stay; a
  leading unnamed column (a pandas index) is dropped;
- timestamps: columns the profile types as ``floating_timestamp`` (or ``calendar_date``)
  are converted from export formats ("06/28/2023 11:04:00 PM", "2018/12/01 12:25:00 AM",
  "2018/12/01") to floating ISO ("2023-06-28T23:04:00.000"); values in no known format are
  served as they are (ingestion then rejects them with a reason);
- system fields, which exports lack, are synthesised deterministically: ``:id`` from the
  1-based row number; ``:created_at`` from the profile's ``reported_at`` columns, else the
  incident time; ``:updated_at`` from its ``record_updated_at`` columns, else ``:created_at``
  (never before it). Local times are converted to UTC in the profile's timezone; a row with
  no usable time gets the file's latest.

Everything else is served as the text it is; empty cells are omitted, like Socrata's nulls.
The as-of bound applies as for the synthetic city: a row is visible once its ``:created_at``
has passed, and it is served with its ``:updated_at`` only once that has passed too.

Environment variables read here: none.
"""

from __future__ import annotations

import csv
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ingestion.profiles import SourceProfile
from replay.columns import Categorical, Column, Formatted, Timestamp
from replay.table import Table, row_ids

TIMESTAMP_TYPES = {"floating_timestamp", "calendar_date"}
EXPORT_FORMATS = (
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y/%m/%d %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%Y-%m-%d",
)
SUPPORTED_FAULTS = frozenset({"http429", "http5xx", "slow"})
_OTHER = re.compile(r"[^a-z0-9]+")
_EPOCH = datetime(1970, 1, 1)


class ExportError(ValueError):
    """The file cannot be served with this profile; the message says why in one line."""


def api_field_name(display: str) -> str:
    """The SODA field name of an export column ("Police Districts" -> ``police_districts``)."""
    name = display.strip()
    if name.startswith(":"):
        return name
    return _OTHER.sub("_", name.lower()).strip("_")


def parse_export_times(values: pd.Series) -> pd.Series:
    """Export timestamps as pandas datetimes (NaT where no known format matches)."""
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in EXPORT_FORMATS:
        todo = parsed.isna() & values.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce")
    return parsed


def _utc_ms(local: pd.Series, timezone: str) -> np.ndarray:
    """Local wall-clock datetimes -> UTC epoch ms (NaT stays NaT as int64 min)."""
    index = pd.DatetimeIndex(local)
    # The repeated hour at the end of DST is read as standard time, like the synthetic city.
    standard = np.zeros(len(index), dtype=bool)
    utc = index.tz_localize(timezone, ambiguous=standard, nonexistent="shift_forward")
    return utc.tz_convert("UTC").tz_localize(None).as_unit("ms").asi8


def _first_time(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    for column in columns:
        if column in frame:
            out = out.fillna(parse_export_times(frame[column]))
    return out


def _read(path: Path) -> pd.DataFrame:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ExportError(f"cannot read {path} as CSV: {exc}") from None
    if header and not header[0].strip():  # a leading unnamed index column
        frame = frame.iloc[:, 1:]
    names = [api_field_name(str(c)) for c in frame.columns]
    seen: dict[str, str] = {}
    for display, name in zip(frame.columns, names, strict=True):
        if not name or name in seen:
            raise ExportError(
                f"{path}: column {display!r} maps to {name!r} like {seen.get(name)!r}"
            )
        seen[name] = str(display)
    frame.columns = names
    return frame


@dataclass
class ExportDataset:
    """A CSV export read once and served under its profile's dataset id."""

    profile: SourceProfile
    path: Path
    columns: dict[str, Column]
    fields: dict[str, str]
    created_ms: np.ndarray
    updated_ms: np.ndarray
    _tables: dict[date, Table] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dataset_id(self) -> str:
        return self.profile.dataset_id

    @property
    def title(self) -> str:
        return f"{self.profile.title} ({self.path.name}, replay)"

    def schema(self, faults: frozenset[str]) -> dict[str, str]:
        """Served user fields and their Socrata types (the profile's, else text)."""
        return self.fields

    def table(self, as_of: date) -> Table:
        """What was published by the end of ``as_of`` (profile timezone)."""
        with self._lock:
            if as_of not in self._tables:
                self._tables[as_of] = self._build(as_of)
            return self._tables[as_of]

    def _build(self, as_of: date) -> Table:
        cutoff = (self.profile.end_of_day_utc(as_of) - _EPOCH) // timedelta(milliseconds=1)
        keep = np.flatnonzero(self.created_ms < cutoff)
        created, updated = self.created_ms[keep], self.updated_ms[keep]
        updated = np.where(updated < cutoff, updated, created)
        columns: dict[str, Column] = {}
        for name, col in self.columns.items():
            if isinstance(col, Categorical):
                sub = Categorical(col.codes[keep], col.lookup)
                sub.soda_type = col.soda_type
                columns[name] = sub
            elif isinstance(col, Formatted):
                columns[name] = Formatted(col.numbers[keep], col.render)
                columns[name].soda_type = col.soda_type
        columns[":created_at"] = Timestamp(created, fixed=True)
        columns[":updated_at"] = Timestamp(updated, fixed=True)
        last = int(updated.max()) if len(keep) else cutoff
        zeros = np.zeros(len(keep), dtype=np.int64)
        return Table(as_of, columns, zeros, last, np.zeros(len(keep), dtype=bool))


def read_export(path: Path, profile: SourceProfile) -> ExportDataset:
    """Read a CSV export for serving under ``profile``.

    Raises:
        ExportError: unreadable file, clashing column names, or the profile's key or incident
            time missing from the file.
    """
    frame = _read(Path(path))
    for role, column in (("key", profile.key), ("incident time", profile.occurred_column)):
        if column not in frame:
            raise ExportError(
                f"{path} has no {role} column {column!r} for profile {profile.name} "
                f"(columns: {', '.join(frame.columns)})"
            )
    fields = {name: profile.column_types.get(name, "text") for name in frame.columns}
    columns: dict[str, Column] = {}
    for name in frame.columns:
        values = frame[name]
        if fields[name] in TIMESTAMP_TYPES:
            parsed = parse_export_times(values)
            iso = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]
            values = iso.where(parsed.notna(), values)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        lookup = np.empty(len(uniques) + 1, dtype=object)
        lookup[: len(uniques)] = list(uniques)
        lookup[len(uniques)] = None  # code -1 (an empty cell) indexes this last entry
        categorical = Categorical(np.where(codes < 0, len(uniques), codes), lookup)
        categorical.soda_type = fields[name]
        columns[name] = categorical
    row_numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
    columns[":id"] = Formatted(row_numbers, row_ids)
    columns[":id"].soda_type = "row_identifier"

    occurred = _first_time(frame, (profile.occurred_column,))
    created_local = _first_time(frame, profile.fields.get("reported_at", ())).fillna(occurred)
    updated_local = _first_time(frame, profile.record_updated_at).fillna(created_local)
    latest = pd.concat([created_local, updated_local]).max()
    fallback = latest if pd.notna(latest) else pd.Timestamp("1970-01-01")
    created = _utc_ms(created_local.fillna(fallback), profile.timezone)
    updated = np.maximum(_utc_ms(updated_local.fillna(fallback), profile.timezone), created)
    return ExportDataset(profile, Path(path), columns, fields, created, updated)
