"""Recommendation lists: a blend of similarity, reading history, popularity and freshness,
diversified so the list is not eight takes on one story.

How it works
------------
1. **Candidates** come from four sources, ``candidates`` each: the nearest neighbours of
   the current article, the nearest neighbours of the reader's *profile* (a recency-weighted
   mean of the vectors of the articles read, newest weighing most), the most popular
   stories in the ranking window, and the newest stories. Stories published after ``now``,
   the current article, the history, excluded ids and near-duplicates of any of them are
   dropped. With a ``language_code`` (a model without ``cross_language``, under an article),
   only stories in the article's language are candidates, and the signals below are scaled
   by their best values in that language.
2. **Relevance** of a candidate is the weighted sum of four signals in [0, 1]::

       relevance = w_article * cos(article) / max cos(article)
                 + w_history * cos(profile) / max cos(profile)
                 + w_popularity * popular / max popular
                 + w_freshness * 2 ** (-age_hours / freshness_half_life_hours)

   Each maximum is over the whole site (near-duplicates of the query aside), so the
   weights, not the scales, decide the mix, and a weak similarity stays weak once the
   strong ones went to the Related list. Cosines below ``min_similarity`` count 0.
3. **Diversity** by maximal marginal relevance: repeatedly take the candidate maximising
   ``(1 - diversity) * relevance - diversity * overlap``, where ``overlap`` is the largest
   cosine to a story already taken, relative to the query's strongest neighbour (capped at
   1), never a near-duplicate of one taken. The first ``distinct_top`` (4) places also go
   to different stories while other candidates remain: two articles are one story when
   their cosine reaches ``story_threshold`` (0.1, twice the Related list's noise floor), or
   when both reach it with the current article.

Each hit says why it is there: the signal that contributed most ("shares ...",
"because you read ...", "popular in ...", "new in ...").

Pure computation: arrays in, :class:`~recommender.Hit` lists out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._catalog import Catalog
from ._index import CosineIndex, top_rows
from ._distinct import near_duplicate_of
from ._explain import query_weights, shared_terms
from ._hits import Hit
from ._options import BlendWeights
from ._popularity import HOUR, PopularityState
from ._ranking import ranking_window
from ._reader import section_shares

__all__ = ["SIGNALS", "RecommendQuery", "SiteScores", "reading_profile", "recommendation_list", "relevance_signals"]

SIGNALS = ("article", "history", "history_max", "section", "subsection", "popularity", "freshness")
"""The relevance signals, in the column order of :func:`relevance_signals` (fields of :class:`BlendWeights`)."""

MMR_POOL_PER_SLOT = 10
"""Candidates per list slot that the diversity walk considers (relevance-sorted: the tail cannot win)."""

MMR_POOL_MIN = 50
"""Fewest candidates the diversity walk considers."""



@dataclass(frozen=True, slots=True)
class RecommendQuery:
    """One Recommendation request.

    Parameters
    ----------
    k : int
    now : float
        Epoch seconds; nothing published later is recommended.
    article_vector : scipy.sparse.csr_matrix of shape (1, n_terms) or None
        The article being read.
    history_rows : ndarray of int
        Rows read before, oldest first.
    exclude_rows : ndarray of int
        Rows that may not appear, nor their near-duplicates.
    weights : BlendWeights
    diversity : float
        Weight of novelty against relevance in maximal marginal relevance, in [0, 1).
    freshness_half_life_hours : float
    history_half_life : float
        How many reads back a history item weighs half as much as the newest.
    duplicate_threshold : float
    min_similarity : float
        Cosine below which similarity signals count as 0 (noise).
    candidates : int
        Candidates drawn from each source.
    distinct_top : int
        The first this many hits come from different stories while candidates allow.
    story_threshold : float
        Cosine from which two articles count as one story for ``distinct_top``.
    explain_terms : int
    hidden : ndarray of bool, shape (n_rows,), or None
        Rows that may not appear (embargo, blocks, eligibility: :mod:`recommender._visibility`).
    language_code : int or None
        Only candidates in this language (a catalogue code; ``None``: any language).
    """

    k: int
    now: float
    article_vector: sp.csr_matrix | None
    history_rows: np.ndarray
    exclude_rows: np.ndarray
    weights: BlendWeights
    diversity: float
    freshness_half_life_hours: float
    history_half_life: float
    duplicate_threshold: float
    min_similarity: float = 0.0
    candidates: int = 100
    distinct_top: int = 4
    story_threshold: float = 0.1
    explain_terms: int = 3
    blend: str = "reader"
    hidden: np.ndarray | None = None
    language_code: int | None = None

    @property
    def floor(self) -> float:
        """Cosine below which a similarity counts 0: ``min_similarity`` in the ``"similarity"`` blend, else none."""
        return self.min_similarity if self.blend == "similarity" else -np.inf


def reading_profile(index: CosineIndex, history_rows: np.ndarray, half_life: float) -> sp.csr_matrix | None:
    """Unit-length recency-weighted mean of the history's vectors (newest last), or ``None``."""
    if len(history_rows) == 0:
        return None
    age = np.arange(len(history_rows))[::-1]  # 0 for the newest
    weights = np.exp2(-age / half_life)
    profile = sp.csr_matrix(sp.csr_matrix(weights[None, :]) @ index.select(history_rows))
    squares = profile.data * profile.data
    if len(squares) and squares.any():  # scaled to unit length, summing squares left to right (as scikit-learn does)
        profile.data /= np.sqrt(np.add.accumulate(squares, dtype=np.float64)[-1])
    return sp.csr_matrix(profile, dtype=np.float32)


def _similarity(index: CosineIndex, vector: sp.csr_matrix | None, query: RecommendQuery) -> np.ndarray:
    """Cosine with every row; near-duplicates of the query count 0, and so does noise below
    ``min_similarity`` in the ``"similarity"`` blend."""
    if vector is None:
        return np.zeros(index.n_rows)
    scores = index.scores(vector).astype(np.float64)
    scores[(scores < query.floor) | (scores >= query.duplicate_threshold)] = 0.0
    return scores


def _scaled(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    top = values.max() if values.size else 0.0
    return values[rows] / top if top > 0 else np.zeros(len(rows))


@dataclass(frozen=True)
class SiteScores:
    """The signals scored over every row, from which candidates are drawn and scaled.

    Parameters
    ----------
    article, history, popular : ndarray of shape (n_rows,)
        Cosine to the article, cosine to the reading profile, popular score.
    """

    article: np.ndarray
    history: np.ndarray
    popular: np.ndarray

    @classmethod
    def of(cls, index: CosineIndex, catalog: Catalog, popularity: PopularityState, query: RecommendQuery) -> SiteScores:
        profile = reading_profile(index, query.history_rows, query.history_half_life)
        window = ranking_window(popularity, catalog, query.now)
        popular = np.zeros(index.n_rows)
        popular[window] = popularity.scores(window, catalog.published[window].astype(np.float64), query.now, "popular")
        site = cls(_similarity(index, query.article_vector, query), _similarity(index, profile, query), popular)
        if query.language_code is not None:  # other languages score 0: candidates and maxima come from this one
            other = catalog.other_language(query.language_code)
            for signal in (site.article, site.history, site.popular):
                signal[other] = 0.0
        return site


def _closest_read(index: CosineIndex, rows: np.ndarray, query: RecommendQuery) -> np.ndarray:
    """Each row's largest cosine to a single story read (near-duplicates of one count 0)."""
    if len(query.history_rows) == 0 or len(rows) == 0:
        return np.zeros(len(rows))
    cosines = (index.select(rows) @ index.select(query.history_rows).T).toarray().astype(np.float64)
    cosines[(cosines < query.floor) | (cosines >= query.duplicate_threshold)] = 0.0
    return cosines.max(axis=1)


def relevance_signals(site: SiteScores, rows: np.ndarray, index: CosineIndex, catalog: Catalog,
                      query: RecommendQuery) -> np.ndarray:
    """The weighted signals of ``rows``, one column per name of :data:`SIGNALS`.

    Returns
    -------
    ndarray of shape (len(rows), len(SIGNALS))
        Their row sums are the relevance.
    """
    w = query.weights
    # Scale each similarity by its best value over the whole site, not over what is left, so a
    # weak similarity stays weak after the strong ones went to other lists or were read.
    age_hours = np.maximum(query.now - catalog.published[rows], 0) / HOUR
    reads_profile = w.section > 0 or w.subsection > 0
    section, subsection = section_shares(catalog, query.history_rows, rows) if reads_profile else (0.0, 0.0)
    return np.column_stack([
        w.article * _scaled(site.article, rows),
        w.history * _scaled(site.history, rows),
        w.history_max * _closest_read(index, rows, query) if w.history_max > 0 else np.zeros(len(rows)),
        w.section * section + np.zeros(len(rows)),
        w.subsection * subsection + np.zeros(len(rows)),
        w.popularity * _scaled(site.popular, rows),
        w.freshness * np.exp2(-age_hours / query.freshness_half_life_hours),
    ])


def recommendation_list(
    index: CosineIndex, catalog: Catalog, popularity: PopularityState, terms: np.ndarray, query: RecommendQuery
) -> list[Hit]:
    """Build a Recommendation list (see the module docstring).

    Returns
    -------
    list of Hit
        Up to ``query.k`` hits, ``score`` the blended relevance; fewer only when fewer
        stories published by ``now`` remain after the exclusions.
    """
    site = SiteScores.of(index, catalog, popularity, query)
    published = catalog.published_between(-np.inf, query.now)
    if query.language_code is not None:
        published = published[~catalog.other_language(query.language_code)[published]]
    sources = [top_rows(site.article, query.candidates), top_rows(site.history, query.candidates),
               top_rows(site.popular, query.candidates), published[-query.candidates:]]
    rows = np.unique(np.concatenate(sources)).astype(np.int64)
    rows = rows[(catalog.published[rows] <= query.now) & ~catalog.removed[rows]]
    if query.hidden is not None:
        rows = rows[~query.hidden[rows]]
    if query.language_code is not None:
        rows = rows[~catalog.other_language(query.language_code)[rows]]
    rows = rows[~near_duplicate_of(rows, index, query.duplicate_threshold, query.exclude_rows)]
    if query.article_vector is not None and len(rows):
        rows = rows[site.article[rows] < query.duplicate_threshold]
    if len(rows) == 0:
        return []

    signals = relevance_signals(site, rows, index, catalog, query)
    relevance = signals.sum(axis=1)
    order = np.lexsort(([catalog.id(row) for row in rows], -relevance))
    rows, relevance, signals = rows[order], relevance[order], signals[order]
    # Redundancy in the same units as the similarity signals: relative to the strongest
    # neighbour of the query, so "as close as its best related story" counts as 1.
    scale = max(site.article.max(initial=0.0), site.history.max(initial=0.0))
    chosen = _mmr(rows, relevance, site.article[rows], index, query, scale if scale > 0 else 1.0)
    weights = query_weights(query.article_vector, len(terms)) if query.article_vector is not None else None
    explained = [_explain(rows[i], signals[i], index, catalog, terms, weights, query) for i in chosen]
    return [Hit(score=float(relevance[i]), explanation=explanation, terms=shared, **card)
            for i, (explanation, shared), card in zip(chosen, explained, catalog.display(rows[chosen]))]


def _mmr(rows: np.ndarray, relevance: np.ndarray, to_article: np.ndarray, index: CosineIndex,
         query: RecommendQuery, scale: float) -> list[int]:
    """Positions picked by maximal marginal relevance, skipping near-duplicates of picks.

    The first ``distinct_top`` picks also skip candidates of a story already picked while
    any other candidate is left: two candidates are one story when their cosine reaches
    ``story_threshold``, or when both reach it with the current article (its continuations).
    """
    pool = min(len(rows), max(MMR_POOL_PER_SLOT * query.k, MMR_POOL_MIN))  # relevance-sorted: the tail cannot win
    similarity = index.pair_scores(rows[:pool])
    overlap = np.minimum(similarity / scale, 1.0)
    lam = 1.0 - query.diversity
    redundancy = np.zeros(pool)
    same_story = np.zeros(pool, dtype=bool)
    continues_article = to_article[:pool] >= query.story_threshold
    available = np.ones(pool, dtype=bool)
    chosen: list[int] = []
    while len(chosen) < query.k and available.any():
        eligible = available
        if len(chosen) < query.distinct_top and (available & ~same_story).any():
            eligible = available & ~same_story
        gain = np.where(eligible, lam * relevance[:pool] - query.diversity * redundancy, -np.inf)
        best = int(np.argmax(gain))  # first maximum: ties keep the (relevance, id) order
        chosen.append(best)
        available[best] = False
        available &= similarity[best] < query.duplicate_threshold
        redundancy = np.maximum(redundancy, overlap[best])
        same_story |= similarity[best] >= query.story_threshold
        if continues_article[best]:
            same_story |= continues_article
    return chosen


def _explain(row: int, signals: np.ndarray, index: CosineIndex, catalog: Catalog, terms: np.ndarray,
             weights: np.ndarray | None, query: RecommendQuery) -> tuple[str, tuple[str, ...]]:
    """Why ``row`` is recommended (the signal contributing most) and the terms it shares."""
    section = f" in {catalog.section(row)}" if catalog.section(row) else ""
    strongest = SIGNALS[int(np.argmax(signals))]
    shared: tuple[str, ...] = ()
    if strongest == "article" and query.article_vector is not None:
        shared = shared_terms(weights, index, [row], terms, query.explain_terms)[0]
        explanation = f"like this article: shares {', '.join(shared)}" if shared else "like this article"
    elif strongest in ("section", "subsection") and len(query.history_rows) and catalog.section(row):
        explanation = f"because you read {catalog.section(row)}"
    elif strongest in ("history", "history_max", "section", "subsection") and len(query.history_rows):
        history = query.history_rows
        closest = history[int(np.argmax((index.select(history) @ index.row_vector(row).T).toarray().ravel()))]
        explanation = f"because you read {catalog.id(closest)}"
    elif strongest == "popularity":
        explanation = f"popular{section}"
    else:
        explanation = f"new{section}"
    return explanation, shared
