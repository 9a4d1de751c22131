"""The :class:`Recommender` estimator: fit on articles, then serve lists by article id.

It wires the one-way pipeline together: validated articles (:mod:`.articles`) become
TF-IDF rows (:mod:`.vectorize`) in an exact cosine index (:mod:`.index`); the list builders
(:mod:`.lists`) turn scores into :class:`~recommender.lists.Hit` lists; :mod:`.store`
saves and loads the fitted state as plain arrays and JSON.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import store
from .articles import Article, load_articles, parse_datetime
from .catalog import Catalog, to_seconds
from .exceptions import CorruptArtifactError, InvalidInputError, InvalidOptionError, NotFittedError
from .index import CosineIndex
from .lists import Hit, RelatedQuery, related_list
from .markup import html_to_text
from .vectorize import TextVectorizer

__all__ = ["Recommender"]


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidOptionError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _check_max_age(max_age: Any) -> int | None:
    if max_age is None:
        return None
    if not isinstance(max_age, timedelta) or max_age < timedelta(0):
        raise InvalidOptionError(f"max_age must be a non-negative datetime.timedelta or None, got {max_age!r}")
    return int(max_age.total_seconds())


def _check_same_section(same_section: Any) -> bool | None:
    if same_section not in (None, True, False):
        raise InvalidOptionError(f"same_section must be True, False or None, got {same_section!r}")
    return same_section


def _check_exclude(exclude: Any) -> list[str]:
    if isinstance(exclude, str):
        raise InvalidOptionError("exclude must be a collection of ids, not a single string; wrap it in a list")
    return list(exclude)


class Recommender:
    """Related lists (and, as the library grows, Ranking and Recommendation) for a news site.

    Parameters
    ----------
    title_weight : float, default=2.0
        Weight of a title word relative to a body word.
    stop_words : {"english", None}, default="english"
    sublinear_tf : bool, default=True
    min_df : int, default=1
    max_df : float, default=0.9
        Drop terms found in more than this share of articles.
    max_features : int or None, default=None
    duplicate_threshold : float, default=0.8
        Cosine similarity at or above which two articles are the same story
        (a republished wire story); such articles never appear in each other's lists and
        at most one of them appears in any list. Partners often rewrite the headline, which
        the title weight turns into a drop from ~0.95 to ~0.88; separate articles on one
        story stay below ~0.5 on the sample corpus.
    min_similarity : float, default=0.05
        Cosine below which an article is not related: a Related list may be shorter than
        ``k`` rather than padded with stories that share only common words.
    explain_terms : int, default=3
        Shared terms attached to each Related hit (``0`` to skip that work).

    Attributes
    ----------
    vectorizer_ : TextVectorizer
    index_ : CosineIndex
    catalog_ : Catalog

    Examples
    --------
    >>> from recommender import Recommender, load_articles
    >>> from recommender.datasets import sample_articles_path
    >>> rec = Recommender().fit(load_articles(sample_articles_path()))
    >>> hits = rec.related(rec.article_ids[0], k=3)
    >>> len(hits)
    3
    """

    def __init__(
        self,
        *,
        title_weight: float = 2.0,
        stop_words: str | None = "english",
        sublinear_tf: bool = True,
        min_df: int = 1,
        max_df: float = 0.9,
        max_features: int | None = None,
        duplicate_threshold: float = 0.8,
        min_similarity: float = 0.05,
        explain_terms: int = 3,
    ) -> None:
        self.title_weight = title_weight
        self.stop_words = stop_words
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.duplicate_threshold = duplicate_threshold
        self.min_similarity = min_similarity
        self.explain_terms = explain_terms

    # ------------------------------------------------------------------ options
    def get_params(self) -> dict[str, Any]:
        """The constructor options, as a JSON-friendly dict."""
        return {
            "title_weight": self.title_weight,
            "stop_words": self.stop_words,
            "sublinear_tf": self.sublinear_tf,
            "min_df": self.min_df,
            "max_df": self.max_df,
            "max_features": self.max_features,
            "duplicate_threshold": self.duplicate_threshold,
            "min_similarity": self.min_similarity,
            "explain_terms": self.explain_terms,
        }

    def _validate_options(self) -> None:
        threshold = self.duplicate_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
            raise InvalidOptionError(f"duplicate_threshold must be in (0, 1], got {threshold!r}")
        floor = self.min_similarity
        if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not 0 <= floor < threshold:
            raise InvalidOptionError(f"min_similarity must be in [0, duplicate_threshold), got {floor!r}")
        if isinstance(self.explain_terms, bool) or not isinstance(self.explain_terms, int) or self.explain_terms < 0:
            raise InvalidOptionError(f"explain_terms must be an integer >= 0, got {self.explain_terms!r}")

    def _make_vectorizer(self) -> TextVectorizer:
        return TextVectorizer(
            title_weight=self.title_weight,
            stop_words=self.stop_words,
            sublinear_tf=self.sublinear_tf,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, articles: Iterable[Article | dict] | str | os.PathLike, reactions: Any = None) -> Recommender:
        """Learn the vocabulary and index every article.

        Parameters
        ----------
        articles : iterable of Article or dict, DataFrame, or path
            Validated with :func:`~recommender.load_articles`; ids must be unique.
        reactions : None
            Reserved for popularity signals.

        Returns
        -------
        self
        """
        self._validate_options()
        if reactions is not None:
            raise InvalidOptionError("reactions are not supported by this release yet; pass reactions=None")
        articles = load_articles(articles)
        if not articles:
            raise InvalidInputError("cannot fit on zero articles")
        vectorizer = self._make_vectorizer()
        vectors = vectorizer.fit_transform([a.title for a in articles], [a.body for a in articles])
        self.vectorizer_ = vectorizer
        self.catalog_ = Catalog([Catalog.record_of(a) for a in articles])
        self.index_ = CosineIndex(vectors)
        return self

    def add_articles(self, articles: Iterable[Article | dict] | str | os.PathLike) -> Recommender:
        """Index new articles with the fitted vocabulary and IDF; no refit.

        They are searchable as soon as this returns. Ids already in the model raise
        :class:`~recommender.exceptions.DuplicateArticleError` and nothing is added.

        Returns
        -------
        self
        """
        self._check_fitted()
        articles = load_articles(articles)
        if not articles:
            return self
        vectors = self.vectorizer_.transform([a.title for a in articles], [a.body for a in articles])
        catalog = Catalog(self.catalog_.to_records())
        catalog.extend(Catalog.record_of(a) for a in articles)
        index = CosineIndex(sp.vstack([self.index_.vectors, vectors], format="csr"))
        self.catalog_, self.index_ = catalog, index
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "index_"):
            raise NotFittedError("this Recommender is not fitted yet; call fit(articles) or Recommender.load(path)")

    # ------------------------------------------------------------------ queries
    @property
    def article_ids(self) -> list[str]:
        """Ids of every indexed article, in the order they were added."""
        self._check_fitted()
        return [record["id"] for record in self.catalog_.records]

    def article_metadata(self, article_id: str) -> dict[str, Any]:
        """Stored metadata of an article: id, title, section, url, tags, published_at."""
        self._check_fitted()
        return dict(self.catalog_.records[self.catalog_.row(article_id)])

    def related(
        self,
        article_id: str,
        k: int = 10,
        *,
        same_section: bool | None = None,
        max_age: timedelta | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Hit]:
        """Stories about the same thing as an indexed article.

        Parameters
        ----------
        article_id : str
        k : int, default=10
        same_section : bool or None, default=None
            ``True``: only the article's own section; ``False``: only other sections.
        max_age : datetime.timedelta or None
            Only stories published within this time of the article (before or after).
        exclude : iterable of str
            Ids that may not appear (unknown ids are ignored).

        Returns
        -------
        list of Hit
            Up to ``k`` hits, best first, cosine similarity as score; never the article
            itself nor a near-duplicate of it, never two near-duplicates of each other.
        """
        self._check_fitted()
        k = _check_k(k)
        row = self.catalog_.row(article_id)
        vector = self.index_.row_vector(row)
        query = self._related_query(
            k,
            exclude_rows=np.append(self.catalog_.known_rows(_check_exclude(exclude)), row),
            section_code=int(self.catalog_.section_codes[row]),
            same_section=same_section,
            published=int(self.catalog_.published[row]),
            max_age_seconds=_check_max_age(max_age),
        )
        return self._related(vector, query)

    def related_to_text(
        self,
        title: str,
        body: str,
        k: int = 10,
        *,
        section: str | None = None,
        published_at: datetime | str | None = None,
        same_section: bool | None = None,
        max_age: timedelta | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Hit]:
        """Related stories for a text that is not indexed (a draft, a just-published story).

        Parameters
        ----------
        title, body : str
            Plain text or HTML.
        k : int, default=10
        section : str or None
            The text's section, for ``same_section``.
        published_at : datetime or ISO 8601 str, optional
            The text's publication time, required with ``max_age``.
        same_section, max_age, exclude
            As in :meth:`related`.

        Returns
        -------
        list of Hit
            Indexed copies of the text itself (near-duplicates) are left out.
        """
        self._check_fitted()
        k = _check_k(k)
        if not isinstance(title, str) or not isinstance(body, str):
            raise InvalidOptionError("title and body must be strings")
        max_age_seconds = _check_max_age(max_age)
        published = None
        if published_at is not None:
            try:
                published = to_seconds(parse_datetime(published_at))
            except ValueError as error:
                raise InvalidOptionError(str(error)) from None
        elif max_age_seconds is not None:
            raise InvalidOptionError("max_age needs published_at for a text that is not indexed")
        vector = self.vectorizer_.transform([html_to_text(title)], [html_to_text(body)])
        query = self._related_query(
            k,
            exclude_rows=self.catalog_.known_rows(_check_exclude(exclude)),
            section_code=self.catalog_.section_code(section),
            same_section=same_section,
            published=published,
            max_age_seconds=max_age_seconds,
        )
        return self._related(vector, query)

    def _related_query(self, k: int, *, same_section: Any, **context: Any) -> RelatedQuery:
        return RelatedQuery(
            k=k,
            duplicate_threshold=self.duplicate_threshold,
            min_similarity=self.min_similarity,
            same_section=_check_same_section(same_section),
            explain_terms=self.explain_terms,
            **context,
        )

    def _related(self, vector: sp.csr_matrix, query: RelatedQuery) -> list[Hit]:
        scores = self.index_.scores(vector)
        return related_list(scores, vector, self.index_, self.catalog_, self.vectorizer_.terms_, query)

    # ------------------------------------------------------------------ storage
    def save(self, path: str | os.PathLike) -> None:
        """Publish the fitted model at ``path`` atomically (see :mod:`recommender.store`)."""
        self._check_fitted()
        vectors, postings = self.index_.vectors, self.index_.postings
        store.publish(
            path,
            arrays={
                "idf": self.vectorizer_.idf_,
                "vectors_data": vectors.data,
                "vectors_indices": vectors.indices,
                "vectors_indptr": vectors.indptr,
                "postings_data": postings.data,
                "postings_indices": postings.indices,
                "postings_indptr": postings.indptr,
            },
            documents={"terms": [str(t) for t in self.vectorizer_.terms_], "articles": self.catalog_.to_records()},
            metadata={
                "config": self.get_params(),
                "vectorizer": self.vectorizer_.get_params(),
                "counts": {"articles": len(self.catalog_), "terms": len(self.vectorizer_.terms_), "nnz": int(vectors.nnz)},
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = False, verify: bool = True) -> Recommender:
        """Load a model saved with :meth:`save`; nothing is unpickled.

        Parameters
        ----------
        path : path-like
        mmap : bool, default=False
            Memory-map the matrices so many worker processes share one copy.
        verify : bool, default=True
            Check every file's checksum and the matrices' structure.

        Raises
        ------
        CorruptArtifactError, IncompatibleArtifactError
        """
        manifest, arrays, documents = store.read(path, mmap=mmap, verify=verify)
        where = store.resolve(path)
        try:
            model = cls(**manifest["config"])
            model._validate_options()
            terms, records = documents["terms"], documents["articles"]
            vectorizer = TextVectorizer.from_state(manifest["vectorizer"], terms, arrays["idf"])
            shape = (len(records), len(terms))
            vectors = _csr(arrays, "vectors", shape, verify)
            postings = _csr(arrays, "postings", shape[::-1], verify)
            catalog = Catalog(records)
        except (KeyError, TypeError, ValueError) as error:
            raise CorruptArtifactError(f"{where}: inconsistent model ({type(error).__name__}: {error})") from None
        model.vectorizer_, model.catalog_ = vectorizer, catalog
        model.index_ = CosineIndex(vectors, postings)
        return model


def _csr(arrays: dict[str, np.ndarray], prefix: str, shape: tuple[int, int], verify: bool) -> sp.csr_matrix:
    data, indices, indptr = (arrays[f"{prefix}_{part}"] for part in ("data", "indices", "indptr"))
    if verify:
        ok = (
            indptr.ndim == indices.ndim == data.ndim == 1
            and len(indptr) == shape[0] + 1
            and len(indices) == len(data) == indptr[-1]
            and indptr[0] == 0
            and bool(np.all(np.diff(indptr) >= 0))
            and (len(indices) == 0 or (int(indices.min()) >= 0 and int(indices.max()) < shape[1]))
        )
        if not ok:
            raise ValueError(f"{prefix} matrix arrays do not describe a {shape} CSR matrix")
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    matrix.has_sorted_indices = True
    return matrix
