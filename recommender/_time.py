"""Time values: ISO 8601 parsing with a required zone, and epoch seconds (the internal clock unit).

Pure computation.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["epoch_seconds", "parse_datetime"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch of an aware datetime."""
    return int((moment - _EPOCH).total_seconds())



def parse_datetime(value: Any, *, what: str = "published_at") -> datetime:
    """Parse an ISO 8601 string or accept a ``datetime``; require a time zone.

    Raises
    ------
    ValueError
        With a message saying what was expected; callers wrap it with the record's context.
    """
    if isinstance(value, datetime):
        moment = value
        if type(value) is not datetime:  # a subclass such as pandas.Timestamp: store a plain datetime
            moment = datetime(*value.timetuple()[:6], value.microsecond, tzinfo=value.tzinfo)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{what} {value!r} is not an ISO 8601 date-time such as 2026-10-03T08:15:00+00:00") from None
    else:
        raise ValueError(f"{what} must be an ISO 8601 string or a datetime, got {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} {value!s} has no time zone; add one, e.g. +00:00 or Z")
    return moment
