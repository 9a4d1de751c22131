"""Validation of query arguments shared by the public calls: ``k``, ``now``, filters.

Each check returns the cleaned value or raises
:class:`~recommender.exceptions.InvalidOptionError` saying what was expected.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from ._time import parse_datetime
from .exceptions import InvalidOptionError

__all__ = [
    "article_id_of",
    "check_choice",
    "check_exclude",
    "check_k",
    "check_max_age",
    "check_now",
    "check_same_section",
    "check_section",
]

def article_id_of(value: Any) -> Any:
    """An article id as the catalogue holds it: an integer (``int`` or NumPy integer, not a
    bool) becomes its decimal string, as :func:`~recommender.load_articles` stores ``{"id": 1}``;
    anything else is returned unchanged (a string, or a value no article can have)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    return value


def check_k(k: Any, name: str = "k") -> int:
    """A positive integer list length (or another count, named ``name``)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidOptionError(f"{name} must be a positive integer, got {k!r}")
    return int(k)


def parse_now(text: str | None, what: str = "now") -> datetime | None:
    """A ``now`` given as ISO 8601 text (a command-line or query-string argument); ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        return parse_datetime(text, what=what)
    except ValueError as error:
        raise InvalidOptionError(str(error)) from None


def check_now(now: Any) -> datetime:
    """An aware datetime; ``None`` means the current time."""
    if now is None:
        return datetime.now(timezone.utc)
    if not isinstance(now, datetime):
        raise InvalidOptionError(f"now must be a timezone-aware datetime or None, got {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidOptionError(f"now={now.isoformat()} has no time zone; use e.g. datetime.now(timezone.utc)")
    return now


def check_max_age(max_age: Any) -> int | None:
    """A non-negative timedelta as whole seconds, or ``None``."""
    if max_age is None:
        return None
    if not isinstance(max_age, timedelta) or max_age < timedelta(0):
        raise InvalidOptionError(f"max_age must be a non-negative datetime.timedelta or None, got {max_age!r}")
    return int(max_age.total_seconds())


def check_same_section(same_section: Any) -> bool | None:
    """``True``, ``False`` or ``None`` (compared by identity: arrays are refused, not broadcast)."""
    if same_section is None or isinstance(same_section, (bool, np.bool_)):
        return None if same_section is None else bool(same_section)
    raise InvalidOptionError(f"same_section must be True, False or None, got {type(same_section).__name__}")


def check_section(section: Any) -> str | None:
    """A section name or ``None``."""
    if section is not None and not isinstance(section, str):
        raise InvalidOptionError(f"section must be a string or None, got {type(section).__name__}")
    return section


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (strings only)."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidOptionError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_exclude(exclude: Any, name: str = "exclude") -> list[str]:
    """A collection of hashable ids (a lone string is refused: it would be read letter by letter),
    integers turned into strings by :func:`article_id_of`."""
    if isinstance(exclude, (str, bytes)):
        raise InvalidOptionError(f"{name} must be a collection of ids, not a single string; wrap it in a list")
    try:
        items = list(exclude)
    except TypeError:
        raise InvalidOptionError(f"{name} must be a collection of ids, got {type(exclude).__name__}") from None
    for item in items:
        try:
            hash(item)
        except TypeError:
            raise InvalidOptionError(f"{name} holds {type(item).__name__} items; ids are strings") from None
    return [article_id_of(item) for item in items]
