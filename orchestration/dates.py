"""The run's dates: "today" in the dataset's timezone, and the checks every command applies.

A run's as-of is the last day whose data may be published. It defaults to today *where the
incidents happen*, not on the machine running Blotter (a UTC runner at 01:00 is still on the
previous day in Buffalo), and it may never lie in the future there: a future as-of would land
future-dated records and move the incremental cursor past every later run.

Environment variables read here: none (the settings are passed in).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from orchestration.errors import OperatorError
from orchestration.settings import Settings


def dataset_timezone(settings: Settings) -> str:
    """The IANA timezone of the configured source (its profile's ``timezone``): the zone of the
    dataset's floating timestamps, and where "today" is decided.

    Raises:
        OperatorError: when the source has no profile (the message names the file to create).
    """
    from ingestion.profiles import ProfileError, load_profile

    try:
        return load_profile(settings.source).timezone
    except ProfileError as exc:
        raise OperatorError(str(exc)) from None


def today_in(timezone: str, now: datetime | None = None) -> date:
    """The calendar day it is in ``timezone`` at ``now`` (default: the current instant)."""
    instant = now or datetime.now(UTC)
    if instant.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return instant.astimezone(ZoneInfo(timezone)).date()


def check_not_future(day: date, settings: Settings, now: datetime | None = None) -> None:
    """Refuse an as-of after today in the dataset's timezone.

    Raises:
        OperatorError: ``day`` lies in the future there (exit 2).
    """
    timezone = dataset_timezone(settings)
    today = today_in(timezone, now)
    if day > today:
        raise OperatorError(
            f"--as-of {day.isoformat()} is in the future (today is {today.isoformat()} in "
            f"{timezone}); use a day up to today"
        )


def resolve_as_of(requested: date | None, settings: Settings, now: datetime | None = None) -> date:
    """The run's as-of: ``requested``, or today in the dataset's timezone.

    Raises:
        OperatorError: when ``requested`` lies after today there, or when BLOTTER_START_DATE
            lies after the as-of (nothing could ever be fetched).
    """
    day = requested or today_in(dataset_timezone(settings), now)
    check_not_future(day, settings, now)
    if settings.start_date > day:
        raise OperatorError(
            f"BLOTTER_START_DATE {settings.start_date.isoformat()} is after the as-of "
            f"{day.isoformat()}: there is nothing to load; set BLOTTER_START_DATE to an "
            "earlier day"
        )
    return day


def check_not_before_published(day: date, published: date | None) -> None:
    """Refuse a run whose as-of lies before the last published one.

    The published marts already hold the records landed through ``published``; a run cut at an
    earlier day cannot take them back (its completeness tests would fail on every later record),
    so it is refused before anything is fetched, naming the days that work.

    Raises:
        OperatorError: ``day`` is before ``published`` (exit 2).
    """
    if published is not None and day < published:
        raise OperatorError(
            f"--as-of {day.isoformat()} is before the last published as-of "
            f"{published.isoformat()}: the published data already runs through that day and a "
            f"run cannot take it back; use --as-of {published.isoformat()} or later"
        )
