"""Recommendation lists: a blend of similarity, reading history, popularity and freshness,
diversified so the list is not eight takes on one story.

How it works
------------
1. **Candidates** (:mod:`recommender._candidates`): the current article's nearest
   neighbours and those of every story read (their neighbour profiles), the ``candidates``
   most popular stories in the ranking window and the ``candidates`` newest stories. Stories
   published after ``now``, the current article, the history, excluded ids and
   near-duplicates of any of them are dropped, and so are stories the editorial rules hide
   (``hidden``) and, with a ``language_code`` (a model without ``cross_language``, under an
   article), stories in other languages. The work of a request grows with this pool, not
   with the archive.
2. **Relevance** of a candidate is the weighted sum of signals in [0, 1]::

       relevance = w_article * cos(article) / max cos(article)
                 + w_history * cos(profile) / max cos(profile)
                 + w_history_max * max cos(a story read)
                 + w_section * log-scaled section share + w_subsection * subsection share
                 + w_popularity * popular / max popular
                 + w_freshness * 2 ** (-age_hours / freshness_half_life_hours)

   where the *profile* is a recency-weighted mean of the vectors of the stories read,
   newest weighing most, and the section shares come from :mod:`recommender._reader`
   (the section share on a log scale with ``section_scale="log"``, the default).
   The article's maximum is over the whole site, the profile's over the candidates (which
   hold the neighbours of every story read), popularity's over the ranking window, near-
   duplicates of the query aside: the weights, not the scales, decide the mix, and a weak
   similarity stays weak once the strong ones went to the Related list. Cosines below
   ``min_similarity`` count 0 in the ``"similarity"`` blend.
3. **Diversity** by maximal marginal relevance: repeatedly take the candidate maximising
   ``(1 - diversity) * relevance - diversity * overlap``, where ``overlap`` is the largest
   cosine to a story already taken, relative to the query's strongest neighbour (capped at
   1), never a near-duplicate of one taken. The first ``distinct_top`` (4) places also go
   to different stories while other candidates remain: two articles are one story when
   their cosine reaches ``story_threshold`` (0.1, twice the Related list's noise floor), or
   when both reach it with the current article.

Each hit says why it is there: the signal that contributed most ("shares ...",
"because you read ...", "popular in ...", "new in ...").

Pure computation: model state in, :class:`~recommender.Hit` lists out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._block_cosines import BlockCosines
from ._candidates import Pool, candidate_pool
from ._catalog import Catalog
from ._distinct import by_score_then_id
from ._explain import shared_terms_of
from ._hits import Hit
from ._index import CosineIndex
from ._options import BlendWeights
from ._popularity import HOUR
from ._reader import log_scaled, section_shares
from ._state import ModelState

__all__ = ["SIGNALS", "RecommendQuery", "recommendation_list", "relevance_of", "relevance_signals"]

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
    article_row : int or None
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
        Candidates drawn from the popular and the newest stories (and, for a model without
        neighbour profiles, from each similarity).
    distinct_top : int
        The first this many hits come from different stories while candidates allow.
    story_threshold : float
        Cosine from which two articles count as one story for ``distinct_top``.
    explain_terms : int
    blend : {"reader", "similarity"}
    section_scale : {"log", "linear"}
        How the section share enters the relevance (:func:`recommender._reader.log_scaled` or as is).
    hidden : ndarray of bool, shape (n_rows,), or None
        Rows that may not appear (embargo, blocks, eligibility: :mod:`recommender._visibility`).
    language_code : int or None
        Only candidates in this language (a catalogue code; ``None``: any language).
    """

    k: int
    now: float
    article_row: int | None
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
    section_scale: str = "log"
    hidden: np.ndarray | None = None
    language_code: int | None = None

    @property
    def floor(self) -> float:
        """Cosine below which a similarity counts 0: ``min_similarity`` in the ``"similarity"`` blend, else none."""
        return self.min_similarity if self.blend == "similarity" else -np.inf


def _scaled(values: np.ndarray, top: float) -> np.ndarray:
    return values / top if top > 0 else np.zeros(len(values))


def relevance_signals(pool: Pool, at: np.ndarray, catalog: Catalog, query: RecommendQuery) -> np.ndarray:
    """The weighted signals of the pool's rows at positions ``at``, one column per name of :data:`SIGNALS`.

    Returns
    -------
    ndarray of shape (len(at), len(SIGNALS))
        Their row sums are the relevance.
    """
    w = query.weights
    rows = pool.rows[at]
    age_hours = np.maximum(query.now - catalog.published[rows], 0) / HOUR
    reads_profile = w.section > 0 or w.subsection > 0
    section, subsection = section_shares(catalog, query.history_rows, rows) if reads_profile else (0.0, 0.0)
    if reads_profile and query.section_scale == "log":
        section = log_scaled(section)
    closest = np.zeros(len(rows))
    if w.history_max > 0 and len(query.history_rows):
        reads = pool.reads[at]
        closest = np.where((reads < query.floor) | (reads >= query.duplicate_threshold), 0.0, reads).max(axis=1)
    return np.column_stack([
        w.article * _scaled(pool.article[at], pool.article_top),
        w.history * _scaled(pool.history[at], pool.history_top),
        w.history_max * closest,
        w.section * section + np.zeros(len(rows)),
        w.subsection * subsection + np.zeros(len(rows)),
        w.popularity * _scaled(pool.popular[at], pool.popular_top),
        w.freshness * np.exp2(-age_hours / query.freshness_half_life_hours),
    ])


def relevance_of(state: ModelState, rows: np.ndarray, query: RecommendQuery) -> np.ndarray:
    """The weighted signals of ``rows`` (any rows, as :func:`relevance_signals`), scaled as a
    list for ``query`` would scale them: for offline evaluation on logged impressions."""
    rows = np.asarray(rows, dtype=np.int64)
    pool = candidate_pool(state, query, extra_rows=rows)
    return relevance_signals(pool, np.searchsorted(pool.rows, rows), state.catalog, query)


def recommendation_list(state: ModelState, query: RecommendQuery) -> list[Hit]:
    """Build a Recommendation list (see the module docstring).

    Returns
    -------
    list of Hit
        Up to ``query.k`` hits, ``score`` the blended relevance; fewer only when fewer
        stories published by ``now`` remain after the exclusions.
    """
    index, catalog = state.index, state.catalog
    pool = candidate_pool(state, query)
    at = np.flatnonzero((catalog.published[pool.rows] <= query.now) & ~catalog.removed[pool.rows] & ~pool.blocked)
    if query.hidden is not None:
        at = at[~query.hidden[pool.rows[at]]]
    if query.language_code is not None:
        at = at[~catalog.other_language(query.language_code)[pool.rows[at]]]
    if len(at) == 0:
        return []
    signals = relevance_signals(pool, at, catalog, query)
    relevance = signals.sum(axis=1)
    order = by_score_then_id(pool.rows[at], relevance, catalog)
    at, relevance, signals = at[order], relevance[order], signals[order]
    rows = pool.rows[at]
    # Redundancy in the same units as the similarity signals: relative to the strongest
    # neighbour of the query, so "as close as its best related story" counts as 1.
    scale = max(pool.article_top, pool.history_top)
    chosen = _mmr(rows, relevance, pool.article[at], index, query, scale if scale > 0 else 1.0)
    terms = state.vectorizer.display_terms_
    # the shared terms of every hit the article explains best, in one pass over their rows
    by_article = [] if query.article_row is None else \
        [i for i in chosen if SIGNALS[int(np.argmax(signals[i]))] == "article"]
    shared_of = dict(zip(by_article, shared_terms_of(index.row_terms(query.article_row), index, rows[by_article],
                                                     terms, query.explain_terms))) if by_article else {}
    explained = [_explain(rows[i], signals[i], pool.reads[at[i]], catalog, shared_of.get(i, ()), query)
                 for i in chosen]
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
    similarity = BlockCosines(index, rows[:pool])  # the cosines of each pick with every candidate
    weighted = (1.0 - query.diversity) * relevance[:pool]
    redundancy = np.zeros(pool)
    same_story = np.zeros(pool, dtype=bool)
    continues_article = to_article[:pool] >= query.story_threshold
    available = np.ones(pool, dtype=bool)
    chosen: list[int] = []
    while len(chosen) < query.k and available.any():
        eligible = available
        if len(chosen) < query.distinct_top and (available & ~same_story).any():
            eligible = available & ~same_story
        gain = np.where(eligible, weighted - query.diversity * redundancy, -np.inf)
        best = int(np.argmax(gain))  # first maximum: ties keep the (relevance, id) order
        chosen.append(best)
        if len(chosen) == query.k:
            break
        to_best = similarity.of(best)
        available[best] = False
        available &= to_best < query.duplicate_threshold
        redundancy = np.maximum(redundancy, np.minimum(to_best / scale, 1.0))
        same_story |= to_best >= query.story_threshold
        if continues_article[best]:
            same_story |= continues_article
    return chosen


def _explain(row: int, signals: np.ndarray, reads: np.ndarray, catalog: Catalog, shared: tuple[str, ...],
             query: RecommendQuery) -> tuple[str, tuple[str, ...]]:
    """Why ``row`` is recommended (the signal contributing most), with the terms it shares with
    the article when that signal is the article's; ``reads`` are its cosines with the stories read."""
    section = f" in {catalog.section(row)}" if catalog.section(row) else ""
    strongest = SIGNALS[int(np.argmax(signals))]
    if strongest == "article" and query.article_row is not None:
        explanation = f"like this article: shares {', '.join(shared)}" if shared else "like this article"
    elif strongest in ("section", "subsection") and len(query.history_rows) and catalog.section(row):
        explanation = f"because you read {catalog.section(row)}"
    elif strongest in ("history", "history_max", "section", "subsection") and len(query.history_rows):
        explanation = f"because you read {catalog.id(query.history_rows[int(np.argmax(reads))])}"
    elif strongest == "popularity":
        explanation = f"popular{section}"
    else:
        explanation = f"new{section}"
    return explanation, shared
