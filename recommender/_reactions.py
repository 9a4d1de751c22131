"""Reader reactions: the :class:`Reaction` record, its validation and :func:`load_reactions`.

Two input shapes, told apart per record:

* **events** ``article_id, reaction, at``: one reader pressed one button at ``at``;
* **counts** ``article_id, reaction, count[, at]``: ``count`` presses, e.g. a snapshot of
  the ``"veryGood! (13)"`` counters. Counts are *added*: feed successive snapshots as
  differences. Without ``at`` they are dated at the article's publication.

Validation here is about the record itself (ids, non-negative integer counts, aware
timestamps); whether the article exists, the reaction type is known or the time lies in
the future is decided where the reactions are recorded (:meth:`Recommender.record_reactions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from collections.abc import Mapping

from ._articles import is_missing

from ._time import parse_datetime
from .exceptions import InvalidInputError
from ._readers import DATAFRAME_SOURCE, iter_records

__all__ = ["MAX_COUNT", "Reaction", "load_reactions", "to_reaction"]

MAX_COUNT = 10**9
"""Most presses one record may carry: far above any real counter, far below float overflow."""


@dataclass(frozen=True, slots=True)
class Reaction:
    """Reactions of one type to one article.

    Parameters
    ----------
    article_id : str
    reaction : str
        Button name such as ``"veryGood"``, ``"sad"``.
    count : int, default=1
        How many presses (1 for an event).
    at : datetime or None
        When (timezone-aware); ``None`` for an undated count, dated at publication.
    """

    article_id: str
    reaction: str
    count: int = 1
    at: datetime | None = None


def _name(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    if is_missing(value):
        raise ValueError(f"missing required field {field!r}")
    if isinstance(value, int) and not isinstance(value, bool) and field == "article_id":
        value = str(value)
    if not isinstance(value, str) or not value.strip() or not value.isprintable() or len(value) > 256:
        raise ValueError(f"{field} must be non-empty printable text up to 256 characters, got {value!r}")
    return value.strip()


def _count(value: Any) -> int:
    if is_missing(value):
        return 1
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("-").isdigit():
            raise ValueError(f"count must be a whole number, got {value!r}")
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"count must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"count must not be negative, got {value}")
    if value > MAX_COUNT:
        raise ValueError(f"count {value} is above the limit of {MAX_COUNT:,} presses per record")
    return value


def to_reaction(record: Any, *, source: str | None = None, line: int | None = None) -> Reaction:
    """Validate one raw record (mapping or :class:`Reaction`).

    Raises
    ------
    InvalidInputError
        Naming the record when a field is missing or malformed, a count is negative,
        or a timestamp has no time zone.
    """
    if isinstance(record, InvalidInputError):
        raise record
    if isinstance(record, Reaction):
        record = {"article_id": record.article_id, "reaction": record.reaction, "count": record.count, "at": record.at}
    if not isinstance(record, Mapping):
        raise InvalidInputError(f"expected an object with reaction fields, got {type(record).__name__}", source=source, line=line)
    shown = record.get("article_id") if isinstance(record.get("article_id"), str) else None
    try:
        article_id = _name(record, "article_id")
        reaction = _name(record, "reaction")
        if source != DATAFRAME_SOURCE and isinstance(record.get("count"), float) and math.isnan(record["count"]):
            raise ValueError("count is NaN; give a whole number, or leave it out for a single press")
        count = _count(record.get("count"))  # in a DataFrame, NaN marks a missing cell
        at = None if is_missing(record.get("at")) else parse_datetime(record["at"], what="at")
        if "count" not in record and at is None:
            raise ValueError("an event needs 'at'; a count record needs 'count'")
    except ValueError as error:
        raise InvalidInputError(str(error), source=source, line=line, record_id=shown) from None
    return Reaction(article_id, reaction, count, at)


def load_reactions(source: Any, *, errors: list[InvalidInputError] | None = None) -> list[Reaction]:
    """Load and validate reactions from a CSV/JSONL file, a DataFrame or an iterable.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or iterable of mappings / Reaction
        Events (``article_id, reaction, at``) or counts (``article_id, reaction, count[, at]``).
    errors : list, optional
        Lenient mode: bad records are appended here and skipped.

    Returns
    -------
    list of Reaction

    Raises
    ------
    InvalidInputError
        The first bad record, naming file and line (unless ``errors`` is given).

    Examples
    --------
    >>> from recommender.datasets import sample_reactions_path
    >>> reactions = load_reactions(sample_reactions_path())
    >>> reactions[0].count
    1
    """
    reactions: list[Reaction] = []
    for origin, line, record in iter_records(source):
        try:
            reactions.append(to_reaction(record, source=origin, line=line))
        except InvalidInputError as error:
            if errors is None:
                raise
            errors.append(error)
    return reactions
