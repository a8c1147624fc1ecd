"""Dates and times as the vendors write them, read one way for every adapter.

Timestamps become aware UTC datetimes and dates plain `date`s. A reader returns
None for an absent or unreadable value instead of raising: one odd field from a
vendor costs that field, not the whole answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

END_OF_DAY = time(23, 59, 59)


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (`...Z`, `+0000`, `+02:00`; none means UTC) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """The calendar date at the start of an ISO 8601 date or timestamp ("2026-01-05", "2026-01-05T...")."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_millis(value: Any) -> datetime | None:
    """Unix milliseconds (a number or a string of digits) as an aware UTC datetime."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def to_millis(moment: datetime) -> int:
    """An aware datetime as Unix milliseconds."""
    return int(moment.timestamp() * 1000)


def day_start(day: date | None) -> datetime | None:
    """The first second of a calendar day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def day_end(day: date | None) -> datetime | None:
    """The last second of a calendar day, in UTC (a sprint that ends on a day covers all of it)."""
    return datetime.combine(day, END_OF_DAY, tzinfo=UTC) if day else None


def utc_stamp(moment: datetime) -> str:
    """A datetime as `2026-01-05T09:00:00Z`, the form the vendors' filters take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_timezone(name: Any) -> tzinfo:
    """The time zone a vendor reports for its user, or UTC when it names none we know."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC
