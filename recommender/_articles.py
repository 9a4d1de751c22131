"""Article records: the :class:`Article` type, its validation and :func:`load_articles`.

Every article that enters the library passes :func:`to_article`, which either returns a
clean :class:`Article` or raises :class:`~recommender.exceptions.InvalidInputError` naming
the record (file and line, or position, and id). HTML bodies and titles are turned into
plain text here, once, so everything downstream sees text.

Limits (configurable through :class:`ArticleLimits`): ids up to 256 characters, bodies
up to 2,000,000 characters. Control characters other than tab and newline are removed
from titles and bodies; a NUL byte anywhere is taken as a sign of a wrong encoding and
rejected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._time import parse_datetime
from .exceptions import DuplicateArticleError, InvalidInputError
from ._markup import html_to_text
from ._readers import iter_records

__all__ = ["Article", "ArticleLimits", "iter_articles", "load_articles", "parse_datetime", "to_article"]

_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FIELDS = ("id", "title", "body", "published_at", "section", "url", "tags", "language", "flags")
_FLAG = re.compile(r"[a-z][a-z0-9_-]{0,39}")
BOOLEAN_FIELDS = ("paywalled", "sponsored", "opinion")
"""Boolean record fields read as flags: ``{"paywalled": true}`` is ``flags=("paywalled",)``."""


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, validated.

    Parameters
    ----------
    id : str
        Unique id, 1-256 printable characters.
    title : str
        Plain-text headline (may be empty when the body is not).
    body : str
        Plain-text body (HTML already stripped); never empty.
    published_at : datetime
        Timezone-aware publication time.
    section : str or None
        Site section such as ``"politics"``.
    url : str or None
    tags : tuple of str
    language : str or None
        Language code such as ``"en"``.
    flags : tuple of str
        Editorial flags such as ``"paywalled"``, ``"sponsored"``, ``"opinion"`` (lower-case
        names of up to 40 letters, digits, ``_`` or ``-``), sorted, each once; eligibility
        rules test them (``docs/editorial.md``).
    """

    id: str
    title: str
    body: str
    published_at: datetime
    section: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    flags: tuple[str, ...] = ()

    def metadata(self) -> dict:
        """What the catalogue stores of the article (everything but the body), as JSON values."""
        return {
            "id": self.id,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "tags": list(self.tags),
            "published_at": self.published_at.isoformat(),
            "language": self.language,
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class ArticleLimits:
    """Size limits applied while validating articles."""

    max_id_chars: int = 256
    max_body_chars: int = 2_000_000
    max_title_chars: int = 2_000


def is_missing(value: Any) -> bool:
    """``None``, a float NaN, or pandas' ``NaT``: a missing value in any input form."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NaTType"


def _text(record: Mapping[str, Any], field: str, *, required: bool, max_chars: int) -> str | None:
    value = record.get(field)
    if is_missing(value):
        if required:
            raise ValueError(f"missing required field {field!r}")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise ValueError(f"{field} contains a NUL byte; the input is probably not UTF-8 text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{field} contains a lone surrogate; it is not valid Unicode text") from None
    if len(value) > max_chars:
        raise ValueError(f"{field} has {len(value):,} characters, above the limit of {max_chars:,}")
    return value


def _clean(value: str) -> str:
    return html_to_text(_CONTROL.sub(" ", value))


def _article_id(record: Mapping[str, Any], limits: ArticleLimits) -> str:
    value = record.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if is_missing(value):
        raise ValueError("missing required field 'id'")
    if not isinstance(value, str):
        raise ValueError(f"id must be a string, got {type(value).__name__}")
    if not value or value != value.strip() or not value.isprintable():
        raise ValueError(f"id {value!r} must be non-empty printable text without surrounding spaces")
    if len(value) > limits.max_id_chars:
        raise ValueError(f"id has {len(value)} characters, above the limit of {limits.max_id_chars}")
    return value


def _tags(value: Any) -> tuple[str, ...]:
    if is_missing(value):
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(tag, str) for tag in value):
        raise ValueError("tags must be a list of strings or a comma-separated string")
    if any("\x00" in tag for tag in value):
        raise ValueError("tags contain a NUL byte; the input is probably not UTF-8 text")
    return tuple(tag.strip() for tag in value if tag.strip())


def _flags(record: Mapping[str, Any]) -> tuple[str, ...]:
    value = record.get("flags")
    if is_missing(value):
        value = ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(flag, str) for flag in value):
        raise ValueError("flags must be a list of strings or a comma-separated string")
    flags = {flag.strip() for flag in value if flag.strip()}
    for name in BOOLEAN_FIELDS:
        given = record.get(name)
        if is_missing(given):
            continue
        if not isinstance(given, bool):
            raise ValueError(f"{name} must be true or false, got {given!r}")
        if given:
            flags.add(name)
    for flag in flags:
        if not _FLAG.fullmatch(flag):
            raise ValueError(f"flag {flag!r} must be a lower-case name of letters, digits, '_' or '-' "
                             f"(at most 40 characters)")
    return tuple(sorted(flags))


def to_article(
    record: Any,
    *,
    source: str | None = None,
    line: int | None = None,
    limits: ArticleLimits = ArticleLimits(),
) -> Article:
    """Validate one raw record (mapping or :class:`Article`) and return an :class:`Article`.

    Raises
    ------
    InvalidInputError
        Naming ``source``, ``line`` and the id when the record is not a valid article.
    """
    if isinstance(record, InvalidInputError):  # a line the reader could not parse
        raise record
    already_clean = isinstance(record, Article)  # its text was cleaned when it was made
    if already_clean:
        record = {field: getattr(record, field) for field in _FIELDS}
    clean = (lambda value: value) if already_clean else _clean
    if not isinstance(record, Mapping):
        raise InvalidInputError(f"expected an object with article fields, got {type(record).__name__}", source=source, line=line)
    raw_id = record.get("id")
    shown_id = raw_id if isinstance(raw_id, str) else None
    try:
        article_id = _article_id(record, limits)
        title = clean(_text(record, "title", required=False, max_chars=limits.max_title_chars) or "")
        body = clean(_text(record, "body", required=True, max_chars=limits.max_body_chars) or "")
        if not body.strip():
            raise ValueError("body is empty (or only markup); an article needs text")
        if is_missing(record.get("published_at")):
            raise ValueError("missing required field 'published_at'")
        published_at = parse_datetime(record["published_at"])
        section = _text(record, "section", required=False, max_chars=200)
        url = _text(record, "url", required=False, max_chars=4_000)
        language = _text(record, "language", required=False, max_chars=35)
        tags = _tags(record.get("tags"))
        flags = _flags(record)
    except ValueError as error:
        raise InvalidInputError(str(error), source=source, line=line, record_id=shown_id) from None
    return Article(
        id=article_id,
        title=title,
        body=body,
        published_at=published_at,
        section=section.strip() or None if section else None,
        url=url or None,
        tags=tags,
        language=language or None,
        flags=flags,
    )


def load_articles(
    source: Any,
    *,
    errors: list[InvalidInputError] | None = None,
    limits: ArticleLimits = ArticleLimits(),
) -> list[Article]:
    """Load and validate articles from a JSONL/CSV file, a DataFrame or an iterable.

    Each record has ``id``, ``title``, ``body`` (text or HTML), ``published_at``
    (ISO 8601 with zone) and optionally ``section``, ``url``, ``tags`` (list, or a
    comma-separated string in CSV), ``language``, ``flags`` (list or comma-separated
    string) and the booleans ``paywalled``, ``sponsored``, ``opinion`` (read as flags).
    Other fields are ignored.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or iterable of mappings
    errors : list, optional
        Lenient mode: bad records are appended here as
        :class:`~recommender.exceptions.InvalidInputError` and skipped.
    limits : ArticleLimits, optional

    Returns
    -------
    list of Article
        Valid records in input order; ``records in == len(result) + len(errors)``.

    Raises
    ------
    InvalidInputError
        The first bad record, naming file and line (unless ``errors`` is given);
        :class:`~recommender.exceptions.DuplicateArticleError` for an id seen twice.

    Examples
    --------
    >>> from recommender.datasets import sample_articles_path
    >>> articles = load_articles(sample_articles_path())
    >>> len(articles) > 50
    True
    """
    return list(iter_articles(source, errors=errors, limits=limits))


def iter_articles(
    source: Any,
    *,
    errors: list[InvalidInputError] | None = None,
    limits: ArticleLimits = ArticleLimits(),
) -> Iterator[Article]:
    """Validate articles from the sources :func:`load_articles` takes, yielding each as it is
    read: what :func:`load_articles` returns, without holding every article at once.

    Raises
    ------
    InvalidInputError
        As :func:`load_articles`, when the bad record is reached.
    """
    first_seen: dict[str, str] = {}
    for origin, line, record in iter_records(source):
        try:
            article = to_article(record, source=origin, line=line, limits=limits)
            if article.id in first_seen:
                raise DuplicateArticleError(
                    f"duplicate id, first seen at {first_seen[article.id]}", source=origin, line=line, record_id=article.id
                )
        except InvalidInputError as error:
            if errors is None:
                raise
            errors.append(error)
            continue
        first_seen[article.id] = f"{origin}:{line}"
        yield article
