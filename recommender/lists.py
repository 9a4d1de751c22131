"""List builders: turn similarity scores into the lists a page shows.

How it works
------------
:func:`related_list` takes the score of a query with every article, masks what may not
appear (the article itself, excluded ids, its near-duplicates: TF-IDF cosine at or above
``duplicate_threshold``, articles whose TF-IDF cosine is below ``min_similarity``, and whatever the section and age filters rule out), picks the
best candidates, and then walks them best first, skipping any candidate that is a
near-duplicate of one already taken, so one wire story republished three times fills one
slot, not three. Order is by score, ties broken by article id, so the same inputs always
give the same list.

Pure computation: arrays in, :class:`Hit` lists out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .catalog import Catalog
from .index import CosineIndex, top_rows
from .profiles import NeighbourProfiles
from .popularity import HOUR, PopularityState

__all__ = [
    "Hit",
    "Page",
    "RankingQuery",
    "RelatedQuery",
    "best_distinct",
    "drop_near_duplicates",
    "explained_hits",
    "filtered_out",
    "near_duplicate_of",
    "ranking_list",
    "related_list",
    "query_weights",
    "shared_terms",
    "walk_known_pairs",
]


@dataclass(frozen=True, slots=True)
class Hit:
    """One item of a list.

    Parameters
    ----------
    article_id : str
    score : float
        The list's ranking score (cosine similarity for Related lists).
    explanation : str
        Why the item is there, for the UI and for debugging.
    terms : tuple of str
        For similarity hits, the shared terms that weigh most.
    """

    article_id: str
    score: float
    explanation: str = ""
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """The three lists under one article; no story (nor a near-duplicate of one) twice.

    Parameters
    ----------
    related, ranking, recommendation : list of Hit
    """

    related: list[Hit]
    ranking: list[Hit]
    recommendation: list[Hit]


@dataclass(frozen=True, slots=True)
class RelatedQuery:
    """What a Related list must honour besides similarity.

    Parameters
    ----------
    k : int
    exclude_rows : ndarray of int
        Rows that may not appear, nor their near-duplicates (the article itself, ids the
        caller excluded, stories already on the page).
    duplicate_threshold : float
        Cosine at or above which two articles count as the same story.
    min_similarity : float
        Cosine below which an article is not related at all.
    section_code : int or None
        With ``same_section=True`` only this section, with ``False`` every other one.
    same_section : bool or None
    published : int or None
        Query time in epoch seconds, for ``max_age_seconds``.
    max_age_seconds : int or None
        Largest allowed distance in publication time from ``published``.
    explain_terms : int
        How many shared terms to attach to each hit (0 for none).
    query_row : int or None
        The query's own row, if indexed: masked (its near-duplicates are already masked by
        ``duplicate_threshold``).
    """

    k: int
    exclude_rows: np.ndarray
    duplicate_threshold: float
    min_similarity: float = 0.0
    section_code: int | None = None
    same_section: bool | None = None
    published: int | None = None
    max_age_seconds: int | None = None
    explain_terms: int = 3
    query_row: int | None = None


def query_weights(query: sp.csr_matrix, n_terms: int) -> np.ndarray:
    """The query's term weights as a dense vector, for :func:`shared_terms`."""
    weights = np.zeros(n_terms, dtype=np.float32)
    weights[query.indices] = query.data
    return weights


def shared_terms(weights: np.ndarray, index: CosineIndex, rows: Sequence[int], terms: np.ndarray,
                 n: int) -> list[tuple[str, ...]]:
    """For each of ``rows``, the ``n`` terms contributing most to its dot product with a
    query (dense ``weights``, see :func:`query_weights`); ties by term order."""
    if n <= 0 or not len(rows):
        return [()] * len(rows)
    lengths, indices, data = index.gather(np.asarray(rows, dtype=np.int64))
    products = weights[indices] * data
    owner = np.repeat(np.arange(len(rows)), lengths)
    shared = np.flatnonzero(products > 0)
    order = shared[np.lexsort((indices[shared], -products[shared], owner[shared]))]
    owners = owner[order]
    rank = np.arange(len(order)) - np.searchsorted(owners, owners)  # place within its row
    best = order[rank < n]
    found: list[list[str]] = [[] for _ in rows]
    for row_position, word in zip(owner[best].tolist(), terms[indices[best]].tolist()):
        found[row_position].append(str(word))
    return [tuple(words) for words in found]


def filtered_out(catalog: Catalog, query: RelatedQuery) -> np.ndarray | None:
    """Rows the query's section and age filters rule out (boolean over every row), or
    ``None`` when it has neither."""
    out = None
    if query.same_section is not None:
        in_section = catalog.section_codes == query.section_code
        out = ~in_section if query.same_section else in_section
    if query.max_age_seconds is not None and query.published is not None:
        too_far = np.abs(catalog.published - query.published) > query.max_age_seconds
        out = too_far if out is None else out | too_far
    return out


def _mask(scores: np.ndarray, cosines: np.ndarray, catalog: Catalog, query: RelatedQuery) -> np.ndarray:
    scores = scores.copy()
    scores[(cosines >= query.duplicate_threshold) | (cosines < query.min_similarity)] = -np.inf
    scores[query.exclude_rows] = -np.inf
    if catalog.any_removed:
        scores[catalog.removed] = -np.inf
    if query.query_row is not None:
        scores[query.query_row] = -np.inf
    out = filtered_out(catalog, query)
    if out is not None:
        scores[out] = -np.inf
    return scores


def related_list(
    scores: np.ndarray,
    cosines: np.ndarray,
    query_vector: sp.csr_matrix,
    index: CosineIndex,
    catalog: Catalog,
    terms: np.ndarray,
    query: RelatedQuery,
    profiles: NeighbourProfiles | None = None,
) -> list[Hit]:
    """Build a Related list from the query's scores with every row.

    Parameters
    ----------
    scores : ndarray of shape (n_rows,)
        Related score of the query with every indexed row (what the list ranks by).
    cosines : ndarray of shape (n_rows,)
        TF-IDF cosine of the query with every row, for the near-duplicate test (may be
        ``scores`` itself).
    query_vector : scipy.sparse.csr_matrix of shape (1, n_terms)
        The query, for explanations.
    index : CosineIndex
    catalog : Catalog
    terms : ndarray of str
        Column names, for explanations.
    query : RelatedQuery
    profiles : NeighbourProfiles or None
        When given, near-duplicate pairs among the hits are looked up in them.

    Returns
    -------
    list of Hit
        At most ``query.k`` hits with a TF-IDF cosine of at least ``min_similarity``,
        best first; fewer when fewer articles are that similar.
    """
    scores = _mask(scores, cosines, catalog, query)
    chosen = best_distinct(np.arange(len(scores)), scores, index, catalog, query.k, query.duplicate_threshold,
                           query.exclude_rows, profiles)
    return explained_hits(chosen, query_vector, index, catalog, terms, query.explain_terms)


def explained_hits(chosen: list[tuple[int, float]], query_vector: sp.csr_matrix, index: CosineIndex,
                   catalog: Catalog, terms: np.ndarray, explain_terms: int) -> list[Hit]:
    """Hits for chosen ``(row, score)`` pairs, each explained by the terms it shares with the query."""
    rows = [row for row, _ in chosen]
    weights = query_weights(query_vector, len(terms)) if explain_terms else None
    explained = shared_terms(weights, index, rows, terms, explain_terms) if weights is not None else [()] * len(rows)
    return [Hit(article_id, score, f"shares {', '.join(words)}" if words else "similar text", words)
            for article_id, (_, score), words in zip(catalog.ids_of(rows), chosen, explained)]


def best_distinct(
    rows: np.ndarray,
    scores: np.ndarray,
    index: CosineIndex,
    catalog: Catalog,
    k: int,
    threshold: float,
    avoid: np.ndarray | None = None,
    profiles: NeighbourProfiles | None = None,
) -> list[tuple[int, float]]:
    """The ``k`` best ``(row, score)`` pairs among ``rows`` (aligned with ``scores``).

    Only positive scores count; best first, ties by article id. A row that is in
    ``avoid``, or a near-duplicate (cosine >= ``threshold``) of a row in ``avoid`` or of
    a row already taken, is skipped and the next best takes its place.
    """
    width = 2 * k + 8
    while True:
        candidates = top_rows(scores, width)
        ordered = candidates[np.lexsort(([catalog.id(rows[c]) for c in candidates], -scores[candidates]))]
        chosen = drop_near_duplicates(rows[ordered], index, threshold, k, avoid, profiles)
        if len(chosen) >= k or len(candidates) < width:
            break
        width *= 4
    score_of = dict(zip(rows[ordered].tolist(), scores[ordered].tolist()))
    return [(row, float(score_of[row])) for row in chosen]


def near_duplicate_of(rows: np.ndarray, index: CosineIndex, threshold: float, avoid: np.ndarray | None) -> np.ndarray:
    """Boolean mask: which ``rows`` are in ``avoid`` or a near-duplicate of a row in it."""
    if avoid is None or len(avoid) == 0 or len(rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    against = (index.select(rows) @ index.select(avoid).T).toarray()
    return np.isin(rows, avoid) | (against.max(axis=1) >= threshold)


def drop_near_duplicates(
    ordered: np.ndarray, index: CosineIndex, threshold: float, k: int, avoid: np.ndarray | None = None,
    profiles: NeighbourProfiles | None = None,
) -> list[int]:
    """Walk rows best first, keeping at most ``k``, none a near-duplicate of another or of ``avoid``.

    With ``profiles`` whose near-duplicate pairs are complete for these rows (their
    :attr:`~recommender.profiles.NeighbourProfiles.bound` is below ``threshold``), pairs are
    looked up there instead of computed.
    """
    blocked = near_duplicate_of(ordered, index, threshold, avoid)
    if profiles is not None:
        kept_rows = walk_known_pairs(ordered.tolist(), profiles.near_duplicates(threshold), k, profiles.bound,
                                     threshold, blocked)
        if kept_rows is not None:
            return kept_rows
    similarity = index.pair_scores(ordered) if len(ordered) > 1 else np.zeros((len(ordered), len(ordered)))
    kept: list[int] = []
    for position in range(len(ordered)):
        if blocked[position] or (kept and similarity[position, kept].max() >= threshold):
            continue
        kept.append(position)
        if len(kept) == k:
            break
    return [int(ordered[position]) for position in kept]


def walk_known_pairs(
    ordered: list[int], pairs: sp.csr_matrix, k: int, bound: np.ndarray, threshold: float,
    blocked: np.ndarray | None = None,
) -> list[int] | None:
    """Walk rows best first, keeping at most ``k``, none listed in ``pairs`` as a near-duplicate
    of one kept (nor ``blocked``).

    ``pairs`` (:meth:`~recommender.profiles.NeighbourProfiles.near_duplicates`) is complete
    for rows whose ``bound`` is below ``threshold``; ``None`` when the walk reaches another row.
    """
    kept: list[int] = []
    for position, row in enumerate(ordered):
        if bound[row] >= threshold:
            return None
        start, end = pairs.indptr[row], pairs.indptr[row + 1]
        if (blocked is not None and blocked[position]) or (end > start and np.isin(pairs.indices[start:end], kept).any()):
            continue
        kept.append(row)
        if len(kept) == k:
            break
    return kept


@dataclass(frozen=True, slots=True)
class RankingQuery:
    """What a Ranking list must honour.

    Parameters
    ----------
    k : int
    now : float
        Epoch seconds.
    mode : {"popular", "trending"}
    section_code : int or None
        Only this section when given.
    exclude_rows : ndarray of int
        Rows that may not appear, nor their near-duplicates.
    duplicate_threshold : float
    """

    k: int
    now: float
    mode: str
    section_code: int | None
    exclude_rows: np.ndarray
    duplicate_threshold: float


def ranking_list(state: PopularityState, index: CosineIndex, catalog: Catalog, query: RankingQuery) -> list[Hit]:
    """Most popular (or trending) articles at ``query.now``.

    Only articles published within the configured age limit before ``now`` and with at
    least one reaction compete; near-duplicates of a better-placed article are skipped.

    Returns
    -------
    list of Hit
        Up to ``query.k`` hits, best first (ties by id); ``score`` is the popularity score.
    """
    window = catalog.published_between(query.now - state.config.max_age_hours * HOUR, query.now)
    if query.section_code is not None:
        window = window[catalog.section_codes[window] == query.section_code]
    window = window[(state.totals(window) > 0) & ~catalog.removed[window]]
    scores = state.scores(window, catalog.published[window].astype(np.float64), query.now, query.mode)
    hits = []
    for row, score in best_distinct(window, scores, index, catalog, query.k, query.duplicate_threshold, query.exclude_rows):
        if query.mode == "trending":
            explanation = f"trending: {score:.1f}x its usual reaction rate"
        else:
            section = catalog.section(row)
            total = state.totals(np.array([row]))[0]
            explanation = f"popular{' in ' + section if section else ''}: {total:g} weighted reactions"
        hits.append(Hit(catalog.id(row), score, explanation))
    return hits
