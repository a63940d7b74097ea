"""Validation of a source profile document: one :class:`ProfileError` line per mistake.

Every mistake names the file and the key, so a user writing a profile for a new city fixes one
thing at a time. Names that end up in SoQL or SQL (columns, levels) must be plain identifiers,
checked here.

Environment variables read here: none.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingestion.profiles.model import (
    FIELD_NAMES,
    NORMALISATIONS,
    REQUIRED_FIELDS,
    GeoLevel,
    ParentType,
    SourceProfile,
)

# Top-level keys of a profile -> whether they are required.
TOP_KEYS = {
    "name": True,
    "title": False,
    "dataset_id": True,
    "url": False,
    "city_name": True,
    "timezone": True,
    "bbox": False,
    "key": True,
    "cursor": False,
    "lookback_days": False,
    "fields": True,
    "coordinate_sentinels": False,
    "geographies": False,
    "pii": False,
    "column_types": False,
    "incident_types": False,
    "parent_incident_types": False,
    "record_updated_at": False,
}  # fmt: skip  (key -> required)
LEVEL_KEYS = {"level": True, "label": True, "columns": True, "values": False, "normalise": False}
SYSTEM_CURSORS = (":updated_at", ":created_at")
SOCRATA_TYPES = {
    "text", "number", "double", "money", "percent", "floating_timestamp", "fixed_timestamp",
    "calendar_date", "date", "checkbox", "boolean", "point", "location", "multipoint", "line",
    "multiline", "polygon", "multipolygon", "url", "email", "phone", "photo", "document", "blob",
    "json", "row_identifier", "row_version",
}  # fmt: skip
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_COLUMN = re.compile(r"^(:@)?[a-z_][a-z0-9_]*$")
_DATASET_ID = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")
_RESOURCE = re.compile(r"/resource/([a-z0-9]{4}-[a-z0-9]{4})\.json$")


class ProfileError(ValueError):
    """A profile is missing or wrong; the one-line message names the file and what to fix."""


def dataset_id_of(url: str) -> str:
    """The four-four dataset id of a SODA resource URL (``.../resource/<id>.json``)."""
    match = _RESOURCE.search(urlsplit(url).path)
    if not match:
        raise ProfileError(f"{url} is not a SODA resource URL (.../resource/<id>.json)")
    return match.group(1)


class _Checker:
    """Validation helpers that fail with ``<file>: <problem>``."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, problem: str) -> ProfileError:
        return ProfileError(f"{self.where}: {problem}")

    def keys(self, doc: Any, spec: dict[str, bool], what: str) -> dict[str, Any]:
        if not isinstance(doc, dict):
            raise self.fail(f"{what} must be a mapping")
        for key in doc:
            if key not in spec:
                raise self.fail(f"unknown key {key!r} in {what} (known: {', '.join(spec)})")
        for key, required in spec.items():
            if required and doc.get(key) in (None, "", []):
                raise self.fail(f"missing required key {key!r} in {what}")
        return doc

    def text(self, value: Any, what: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"{what} must be text, got {value!r}")
        return str(value)

    def name(self, value: Any, what: str, pattern: re.Pattern[str] = NAME_PATTERN) -> str:
        text = self.text(value, what)
        if not pattern.match(text):
            raise self.fail(f"{what} {text!r} is not a valid name (lower case, digits, _)")
        return text

    def columns(self, value: Any, what: str, allow_empty: bool = False) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or (not items and not allow_empty):
            raise self.fail(f"{what} must be a non-empty list of column names")
        out = tuple(self.name(v, f"column in {what}", _COLUMN) for v in items)
        if len(set(out)) < len(out):
            raise self.fail(f"{what} lists a column twice")
        return out

    def texts(self, value: Any, what: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(f"{what} must be a list")
        out = tuple(self.text(v, f"value in {what}") for v in value)
        if len(set(out)) < len(out):
            raise self.fail(f"{what} lists a value twice")
        return out

    def mapping(self, value: Any, what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a mapping")
        return {self.text(k, f"key of {what}"): v for k, v in value.items()}


def _fields(c: _Checker, doc: Any, key: str) -> dict[str, tuple[str, ...]]:
    raw = c.mapping(doc, "fields")
    for name in raw:
        if name not in FIELD_NAMES:
            raise c.fail(f"unknown key {name!r} in fields (known: {', '.join(FIELD_NAMES)})")
    for name in REQUIRED_FIELDS:
        if raw.get(name) in (None, "", []):
            raise c.fail(f"missing required key {name!r} in fields")
    fields = {n: c.columns(raw[n], f"fields.{n}") for n in FIELD_NAMES if raw.get(n)}
    if fields["record_key"] != (key,):
        raise c.fail(f"fields.record_key must be [{key}] (the profile's key)")
    if len(fields["occurred_at"]) != 1:
        raise c.fail("fields.occurred_at must name exactly one column (the backfill filters on it)")
    return fields


def _geographies(c: _Checker, doc: Any) -> tuple[GeoLevel, ...]:
    if doc is None:
        return ()
    if not isinstance(doc, list):
        raise c.fail("geographies must be a list of levels")
    levels: list[GeoLevel] = []
    for i, item in enumerate(doc, 1):
        named = isinstance(item, dict) and isinstance(item.get("level"), str)
        raw = c.keys(
            item, LEVEL_KEYS, f"geography level {item['level']!r}" if named else f"geography {i}"
        )
        level = c.name(raw["level"], f"geography level {i} name")
        if level == "city":
            raise c.fail("geography level 'city' is reserved for the whole city (city_name)")
        if any(g.level == level for g in levels):
            raise c.fail(f"duplicate geography level {level!r}")
        normalise = raw.get("normalise") or "none"
        if normalise not in NORMALISATIONS:
            raise c.fail(f"level {level}: normalise {normalise!r} is not one of {NORMALISATIONS}")
        values = raw.get("values")
        levels.append(
            GeoLevel(
                level=level,
                label=c.text(raw["label"], f"level {level} label"),
                columns=c.columns(raw["columns"], f"level {level} columns"),
                values=None if values is None else c.texts(values, f"level {level} values"),
                normalise=normalise,
            )
        )
    return tuple(levels)


def _parents(c: _Checker, doc: Any) -> dict[str, ParentType]:
    out: dict[str, ParentType] = {}
    for name, raw in c.mapping(doc, "parent_incident_types").items():
        item = c.keys(raw, {"category": True, "sensitive": True}, f"parent type {name!r}")
        if not isinstance(item["sensitive"], bool):
            raise c.fail(f"parent type {name!r}: sensitive must be true or false")
        out[name] = ParentType(c.text(item["category"], "category"), item["sensitive"])
    return out


def _bbox(c: _Checker, doc: Any) -> dict[str, float] | None:
    if doc is None:
        return None
    spec = dict.fromkeys(("min_lat", "max_lat", "min_lon", "max_lon"), True)
    raw = c.keys(doc, spec, "bbox")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw.values()):
        raise c.fail("bbox values must be numbers")
    if raw["min_lat"] >= raw["max_lat"] or raw["min_lon"] >= raw["max_lon"]:
        raise c.fail("bbox minimums must be below maximums")
    return {k: float(raw[k]) for k in spec}


def parse_profile(doc: Any, where: str, expected_name: str | None = None) -> SourceProfile:
    """Validate a parsed YAML document; ``where`` names it in error messages."""
    c = _Checker(where)
    doc = c.keys(doc, TOP_KEYS, "the profile")
    name = c.name(doc["name"], "name")
    if expected_name is not None and name != expected_name:
        raise c.fail(f"name {name!r} must match the file name ({expected_name!r})")
    dataset_id = c.text(doc["dataset_id"], "dataset_id")
    if not _DATASET_ID.match(dataset_id):
        raise c.fail(f"dataset_id {dataset_id!r} is not a Socrata four-four id (abcd-1234)")
    url = doc.get("url")
    if url is not None:
        url = c.text(url, "url")
        if not re.match(r"^https?://[^/\s]+/", url) or dataset_id_of_or_none(url) != dataset_id:
            raise c.fail(f"url must be https://<host>/resource/{dataset_id}.json")
    timezone = c.text(doc["timezone"], "timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise c.fail(f"timezone {timezone!r} is not an IANA zone (e.g. America/New_York)") from None
    key = c.name(doc["key"], "key", _COLUMN)
    cursor = doc.get("cursor") or ":updated_at"
    if cursor not in SYSTEM_CURSORS:
        raise c.fail(f"cursor {cursor!r} must be one of {', '.join(SYSTEM_CURSORS)}")
    lookback = doc.get("lookback_days", 3)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 0:
        raise c.fail(f"lookback_days must be a whole number of days >= 0, got {lookback!r}")
    column_types = {
        c.name(col, "column in column_types", _COLUMN): c.text(t, f"type of {col}")
        for col, t in c.mapping(doc.get("column_types"), "column_types").items()
    }
    for col, kind in column_types.items():
        if kind not in SOCRATA_TYPES:
            raise c.fail(f"column_types.{col}: {kind!r} is not a Socrata type")
    parents = _parents(c, doc.get("parent_incident_types"))
    types = {
        k: c.text(v, f"parent of {k!r}")
        for k, v in c.mapping(doc.get("incident_types"), "incident_types").items()
    }
    for kind, parent in types.items():
        if parents and parent not in parents:
            raise c.fail(f"incident type {kind!r} maps to {parent!r}, not in parent_incident_types")
    sentinels = doc.get("coordinate_sentinels") or []
    return SourceProfile(
        name=name,
        title=c.text(doc.get("title") or name, "title"),
        dataset_id=dataset_id,
        url=url,
        city_name=c.text(doc["city_name"], "city_name"),
        timezone=timezone,
        bbox=_bbox(c, doc.get("bbox")),
        key=key,
        cursor=cursor,
        lookback_days=lookback,
        fields=_fields(c, doc["fields"], key),
        coordinate_sentinels=c.texts(sentinels, "coordinate_sentinels"),
        geographies=_geographies(c, doc.get("geographies")),
        pii=c.columns(doc.get("pii") or [], "pii", allow_empty=True),
        column_types=column_types,
        incident_types=types,
        parent_incident_types=parents,
        record_updated_at=c.columns(
            doc.get("record_updated_at") or [], "record_updated_at", allow_empty=True
        ),
    )


def dataset_id_of_or_none(url: str) -> str | None:
    match = _RESOURCE.search(urlsplit(url).path)
    return match.group(1) if match else None
