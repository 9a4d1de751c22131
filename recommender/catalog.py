"""The article catalogue: the one mapping between public article ids and internal rows.

Public calls take article ids; the index, the matrices and the list builders work with
row numbers. :class:`Catalog` owns the translation both ways plus the per-row metadata the
list builders filter on (section, publication time) and the display fields (title, url).
Rows are dense ``0..n-1`` in the order articles were added and never move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from .articles import Article
from .checks import epoch_seconds
from .exceptions import DuplicateArticleError, UnknownArticleError

__all__ = ["Catalog"]


class Catalog:
    """Ids, metadata and row numbers of the articles a model holds.

    Parameters
    ----------
    records : sequence of dict
        One dict per row with keys ``id``, ``title``, ``section``, ``url``, ``tags``,
        ``published_at`` (ISO 8601 string): the form :meth:`to_records` returns and
        artifacts store.
    """

    def __init__(self, records: Sequence[dict] = ()) -> None:
        self.records: list[dict] = []
        self._row_of: dict[str, int] = {}
        self._sections: dict[str | None, int] = {None: -1}
        self.section_codes = np.empty(0, dtype=np.int32)
        self.removed = np.zeros(0, dtype=bool)
        self.published = np.empty(0, dtype=np.int64)
        self.by_published = np.empty(0, dtype=np.int64)
        self._published_sorted = np.empty(0, dtype=np.int64)
        self.extend(records)

    @staticmethod
    def record_of(article: Article) -> dict:
        """The stored form of an article's metadata (no body)."""
        return {
            "id": article.id,
            "title": article.title,
            "section": article.section,
            "url": article.url,
            "tags": list(article.tags),
            "published_at": article.published_at.isoformat(),
        }

    def extend(self, records: Iterable[dict], removed: np.ndarray | None = None) -> np.ndarray:
        """Append rows; return their row numbers.

        ``removed`` (a stored model's unpublished rows) marks rows appended as removed:
        their ids are not held, so an id may appear once live and any number of times removed.

        Raises
        ------
        DuplicateArticleError
            When an id is already held (nothing is added then).
        """
        records = list(records)
        removed = np.zeros(len(records), dtype=bool) if removed is None else np.asarray(removed, dtype=bool)
        new_ids: set[str] = set()
        for record, gone in zip(records, removed):
            if gone:
                continue
            if record["id"] in self._row_of or record["id"] in new_ids:
                raise DuplicateArticleError("article id is already in the model", record_id=record["id"])
            new_ids.add(record["id"])
        first = len(self.records)
        codes = [self._sections.setdefault(record["section"], len(self._sections) - 1) for record in records]
        seconds = [epoch_seconds(datetime.fromisoformat(record["published_at"])) for record in records]
        for row, (record, gone) in enumerate(zip(records, removed), start=first):
            if not gone:
                self._row_of[record["id"]] = row
        self.records.extend(records)
        self.section_codes = np.concatenate([self.section_codes, np.asarray(codes, dtype=np.int32)])
        self.removed = np.concatenate([self.removed, removed])
        self.published = np.concatenate([self.published, np.asarray(seconds, dtype=np.int64)])
        # merge the new rows into publication order (after equal times: ties stay in row order)
        new_rows = np.arange(first, len(self.records))
        new_order = np.argsort(self.published[new_rows], kind="stable")
        new_rows, new_seconds = new_rows[new_order], self.published[new_rows][new_order]
        at = np.searchsorted(self._published_sorted, new_seconds, side="right")
        self.by_published = np.insert(self.by_published, at, new_rows)
        self._published_sorted = np.insert(self._published_sorted, at, new_seconds)
        return np.arange(first, len(self.records))

    def copy(self) -> Catalog:
        """An independent catalogue with the same rows (cheap: no record is re-read)."""
        other = Catalog.__new__(Catalog)
        other.records, other._row_of, other._sections = list(self.records), dict(self._row_of), dict(self._sections)
        other.section_codes, other.published, other.removed = self.section_codes, self.published, self.removed
        other.by_published, other._published_sorted = self.by_published, self._published_sorted
        return other

    def published_between(self, start: float, end: float) -> np.ndarray:
        """Rows published in ``[start, end]`` (epoch seconds), by binary search."""
        low = np.searchsorted(self._published_sorted, start, side="left")
        high = np.searchsorted(self._published_sorted, end, side="right")
        return self.by_published[low:high]

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._row_of

    def row(self, article_id: str) -> int:
        """Row of ``article_id``; :class:`UnknownArticleError` if it is not held."""
        try:
            return self._row_of[article_id]
        except (KeyError, TypeError):
            raise UnknownArticleError(article_id) from None

    def rows(self, article_ids: Iterable[str]) -> np.ndarray:
        """Rows of several ids (each must be held)."""
        return np.fromiter((self.row(article_id) for article_id in article_ids), dtype=np.int64)

    def remove(self, article_ids: Iterable[str]) -> np.ndarray:
        """Unpublish articles: their ids become unknown and their rows never appear in lists.

        Rows keep their numbers (the matrices are not rewritten); the id may be added
        again later as a new row. Returns the removed rows.
        """
        rows = self.rows(article_ids)
        self.removed = self.removed.copy()
        self.removed[rows] = True
        for row in rows:
            del self._row_of[self.records[row]["id"]]
        return rows

    @property
    def any_removed(self) -> bool:
        """Whether some rows are unpublished (list builders then mask them)."""
        return len(self._row_of) < len(self.records)

    def known_rows(self, article_ids: Iterable[str]) -> np.ndarray:
        """Rows of those ids that are held; others are ignored (for exclusion lists)."""
        return np.fromiter((self._row_of[i] for i in article_ids if i in self._row_of), dtype=np.int64)

    def id(self, row: int) -> str:
        """Article id of ``row``."""
        return self.records[row]["id"]

    def section_code(self, section: str | None) -> int:
        """Internal code of a section name; ``-2`` for a section no article has."""
        return self._sections.get(section, -2)

    def to_records(self) -> list[dict]:
        """All rows' metadata, in row order (the stored form)."""
        return list(self.records)
