"""The one exception hierarchy of the library.

Every error the library raises on purpose derives from :class:`RecommenderError`,
so a site backend can catch all of them with one ``except`` clause::

    RecommenderError
    ├── InvalidInputError (ValueError)        a record or file that cannot be read as data
    │   └── DuplicateArticleError             the same article id twice
    ├── InvalidOptionError (ValueError)       a bad option or argument (k, threshold, naive datetime...)
    ├── UnknownArticleError (KeyError)        an article id the model does not hold
    │   └── EmbargoedArticleError             an article not published yet at ``now`` (scheduled)
    ├── NotFittedError (AttributeError)       a query before ``fit`` or ``load``
    └── ArtifactError (OSError)               a model directory that cannot be used
        ├── CorruptArtifactError              missing, truncated or altered file (checksum mismatch)
        └── IncompatibleArtifactError         an unknown format version

Errors carry context: the record (``source``, ``line``, ``record_id``) or the file they are about.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = [
    "ArtifactError",
    "CorruptArtifactError",
    "DuplicateArticleError",
    "EmbargoedArticleError",
    "IncompatibleArtifactError",
    "InvalidInputError",
    "InvalidOptionError",
    "NotFittedError",
    "RecommenderError",
    "StemmerUnavailableError",
    "UnknownArticleError",
]


class RecommenderError(Exception):
    """Base class of every error raised by ``recommender``."""


class InvalidInputError(RecommenderError, ValueError):
    """A record or file that cannot be read as valid data.

    Parameters
    ----------
    message : str
        What is wrong and, where possible, how to fix it.
    source : str, optional
        The file (or ``"<iterable>"``) the record came from.
    line : int, optional
        1-based line (JSONL/CSV) or position (iterables) of the record.
    record_id : str, optional
        The record's id when it could be read.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        record_id: str | None = None,
    ) -> None:
        self.reason = message
        self.source = source
        self.line = line
        self.record_id = record_id
        where = []
        if source is not None:
            where.append(f"{source}:{line}" if line is not None else source)
        elif line is not None:
            where.append(f"record {line}")
        if record_id is not None:
            where.append(f"id {record_id!r}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(prefix + message)


class DuplicateArticleError(InvalidInputError):
    """The same article id appears twice in one input or is already in the model."""


class InvalidOptionError(RecommenderError, ValueError):
    """A bad option or argument: ``k``, a threshold, a naive datetime, an unknown filter."""


class UnknownArticleError(RecommenderError, KeyError):
    """An article id the model does not hold."""

    def __init__(self, article_id: object, reason: str = "it was never added to this model") -> None:
        self.article_id = article_id
        self.reason = reason
        super().__init__(article_id)

    def __str__(self) -> str:
        return f"unknown article id {self.article_id!r}: {self.reason}"


class EmbargoedArticleError(UnknownArticleError):
    """An article whose ``published_at`` is after the call's ``now``: to readers it does not
    exist yet. Pass ``preview=True`` to see its lists before its time (an editor's draft view).
    """

    def __init__(self, article_id: object, published: int) -> None:
        super().__init__(article_id)
        self.published = published

    def __str__(self) -> str:
        when = datetime.fromtimestamp(self.published, timezone.utc).isoformat()
        return (f"article {self.article_id!r} is scheduled for {when} and not published at this now; "
                f"pass preview=True to see its lists before then")


class NotFittedError(RecommenderError, AttributeError):
    """A query on a model that was neither fitted nor loaded."""


class ArtifactError(RecommenderError, OSError):
    """A model directory or precomputed output that cannot be used."""


class CorruptArtifactError(ArtifactError):
    """A file of an artifact is missing, truncated or does not match its checksum."""


class IncompatibleArtifactError(ArtifactError):
    """An artifact written in a format version this release cannot read."""


class StemmerUnavailableError(RecommenderError, ImportError):
    """Stemming was asked for (``stem=True``) but no Snowball stemmer is installed.

    Install PyStemmer (``pip install PyStemmer``, a dependency of ``recommender``) or the
    pure-Python ``snowballstemmer``; or pass ``stem=False``.
    """
