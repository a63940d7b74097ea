"""Schema drift of a Socrata source, in lines a person can read in the run ledger.

Everything lands as text, so drift never breaks a load; it must not go unnoticed either. A fetch
is compared with the profile's ``column_types`` (what the dataset is expected to serve) and with
the columns ``raw.incidents`` already has:

- ``new source column zip_code (text)``: a column the profile does not list, seen for the first
  time in this warehouse;
- ``column hour_of_day changed type text -> number``: the type the portal announces
  (``X-SODA2-Types``), or the JSON type of its values, differs from the profile's.

Environment variables read here: none.
"""

from __future__ import annotations

from ingestion.validation import column_name

_NUMERIC = {"number", "double", "money", "percent"}
_BOOLEAN = {"checkbox", "boolean"}
_OBJECTS = {"point", "location", "multipoint", "line", "multiline", "polygon", "multipolygon"}
_OBJECTS |= {"json", "url", "photo", "document"}


def _is_system(name: str) -> bool:
    # :id, :created_at ... are Socrata's own; computed regions (":@...") are dataset columns.
    return name.startswith(":") and not name.startswith(":@")


def _value_fits(expected: str, kind: str) -> bool:
    """Whether JSON values of ``kind`` (number, checkbox, object) fit a column of ``expected``."""
    allowed = {"number": _NUMERIC, "checkbox": _BOOLEAN, "object": _OBJECTS}
    return expected in allowed.get(kind, {kind})


def detect_drift(
    expected: dict[str, str],
    announced: dict[str, str],
    value_kinds: dict[str, str],
    fetched: set[str],
    raw_columns: set[str] | None,
) -> list[str]:
    """Drift lines of one fetch, sorted by column.

    Args:
        expected: The profile's column -> Socrata type.
        announced: Field -> type from the responses' ``X-SODA2-Fields``/``X-SODA2-Types``.
        value_kinds: Field -> JSON type of columns that held non-string values.
        fetched: API names of the columns present in the fetched records.
        raw_columns: Landing names of ``raw.incidents``'s columns (None: no table yet).
    """
    lines: dict[str, str] = {}
    for name in sorted(set(announced) | fetched):
        if _is_system(name):
            continue
        got = announced.get(name)
        if name not in expected:
            if raw_columns is None or column_name(name) not in raw_columns:
                kind = got or value_kinds.get(name) or "text"
                lines[name] = f"new source column {name} ({kind})"
            continue
        want = expected[name]
        if got is not None and got != want:
            lines[name] = f"column {name} changed type {want} -> {got}"
        elif name in value_kinds and not _value_fits(want, value_kinds[name]):
            lines[name] = f"column {name} changed type {want} -> {value_kinds[name]}"
    return list(lines.values())
