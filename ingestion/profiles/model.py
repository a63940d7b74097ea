"""What a source profile says about one Socrata dataset, as frozen dataclasses.

A profile is read from ``ingestion/profiles/<name>.yml`` and validated by
:mod:`ingestion.profiles.loader`; :meth:`SourceProfile.to_dict` gives the normalised document
(every optional key present with its default) that is landed as ``raw.source_profile``.

Environment variables read here: none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

# Blotter's incident fields (the keys of ``fields``); dbt staging reads them by these names.
FIELD_NAMES = (
    "record_key",
    "case_number",
    "occurred_at",
    "reported_at",
    "incident_type",
    "parent_incident_type",
    "description",
    "address",
    "latitude",
    "longitude",
    "location",
)
REQUIRED_FIELDS = ("record_key", "occurred_at")
NORMALISATIONS = ("none", "integer_code")


@dataclass(frozen=True)
class GeoLevel:
    """One geography level below the city.

    Attributes:
        level: Identifier of the level (``police_district``), used as ``geo_level``.
        label: Human label (``Police district``).
        columns: Source columns holding it, drift aliases in order (first non-null wins).
        values: The official areas, or None when the profile does not know them.
        normalise: ``none`` or ``integer_code`` (``"017"``, ``"17.0"`` -> ``"17"``).
    """

    level: str
    label: str
    columns: tuple[str, ...]
    values: tuple[str, ...] | None = None
    normalise: str = "none"


@dataclass(frozen=True)
class ParentType:
    """A parent incident type's reporting category and whether its location is sensitive."""

    category: str
    sensitive: bool


@dataclass(frozen=True)
class SourceProfile:
    """A validated source profile (the format: the shipped ``ingestion/profiles/*.yml``).

    Attributes:
        name: Profile name (the file's stem).
        title: Human title of the dataset.
        dataset_id: Socrata four-four id.
        url: SODA resource URL to ingest from; None for the in-process demo replay and for
            file/replay-only profiles.
        city_name: Name of the city level.
        timezone: IANA zone of the publisher: floating timestamps are wall-clock times there.
        key: API name of the merge key of ``raw.incidents`` (unique per record).
        cursor: System field used as the incremental cursor (a fixed UTC timestamp).
        lookback_days: Days before the stored cursor each incremental run re-reads.
        fields: Blotter field -> source columns (first non-null wins).
        geographies: Ordered geography levels below the city.
        pii: Source columns holding personal data.
        column_types: Expected Socrata type per source column (drift detection).
        coordinate_sentinels: Legitimate non-numeric coordinate values (``UNKNOWN``).
        incident_types: Incident type -> parent type.
        parent_incident_types: Parent type -> category and sensitivity.
        bbox: ``min_lat``, ``max_lat``, ``min_lon``, ``max_lon`` of the city, or None.
        record_updated_at: User columns holding a record's last update (floating local
            time); the file replay derives ``:updated_at`` from them.
    """

    name: str
    dataset_id: str
    city_name: str
    timezone: str
    key: str
    fields: dict[str, tuple[str, ...]]
    title: str = ""
    url: str | None = None
    cursor: str = ":updated_at"
    lookback_days: int = 3
    geographies: tuple[GeoLevel, ...] = ()
    pii: tuple[str, ...] = ()
    column_types: dict[str, str] = field(default_factory=dict)
    coordinate_sentinels: tuple[str, ...] = ()
    incident_types: dict[str, str] = field(default_factory=dict)
    parent_incident_types: dict[str, ParentType] = field(default_factory=dict)
    bbox: dict[str, float] | None = None
    record_updated_at: tuple[str, ...] = ()

    @property
    def lookback(self) -> timedelta:
        """The look-back window as a timedelta."""
        return timedelta(days=self.lookback_days)

    @property
    def occurred_column(self) -> str:
        """The source column of the incident time (bounds the backfill, checks the as-of)."""
        return self.fields["occurred_at"][0]

    def columns_of(self, *names: str) -> tuple[str, ...]:
        """Source columns of the given Blotter fields, in order, without repeats."""
        out: list[str] = []
        for name in names:
            out += [c for c in self.fields.get(name, ()) if c not in out]
        return tuple(out)

    def end_of_day_utc(self, day: date) -> datetime:
        """The naive UTC instant at which local day ``day`` ends (DST-aware)."""
        local_midnight = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(self.timezone))
        return local_midnight.astimezone(UTC).replace(tzinfo=None)

    def today(self) -> date:
        """Today in the publisher's timezone (the default as-of)."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    def source_id(self, url: str) -> str:
        """``<hostname>/<dataset_id>`` of the resource URL actually read (port and path dropped)."""
        host = urlsplit(url).hostname or "unknown-host"
        return f"{host}/{self.dataset_id}"

    def to_dict(self) -> dict[str, Any]:
        """The normalised profile document: same structure as the YAML, defaults filled in."""
        return {
            "name": self.name,
            "title": self.title,
            "dataset_id": self.dataset_id,
            "url": self.url,
            "city_name": self.city_name,
            "timezone": self.timezone,
            "bbox": dict(self.bbox) if self.bbox else None,
            "key": self.key,
            "cursor": self.cursor,
            "lookback_days": self.lookback_days,
            "fields": {name: list(cols) for name, cols in self.fields.items()},
            "coordinate_sentinels": list(self.coordinate_sentinels),
            "geographies": [
                {
                    "level": g.level,
                    "label": g.label,
                    "columns": list(g.columns),
                    "values": None if g.values is None else list(g.values),
                    "normalise": g.normalise,
                }
                for g in self.geographies
            ],
            "pii": list(self.pii),
            "column_types": dict(self.column_types),
            "incident_types": dict(self.incident_types),
            "parent_incident_types": {
                name: {"category": p.category, "sensitive": p.sensitive}
                for name, p in self.parent_incident_types.items()
            },
            "record_updated_at": list(self.record_updated_at),
        }
