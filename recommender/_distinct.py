"""No story twice: walk candidates best first and skip near-duplicates (every list builder).

How it works
------------
Two articles whose TF-IDF cosine is at or above ``duplicate_threshold`` are the same story
(a wire story republished by partners, a headline rewritten). :func:`best_distinct` takes the
best-scored candidates, orders them by score with ties broken by article id (so the same
inputs always give the same list), and walks them: a candidate that is a near-duplicate of
one already kept, or of a row the caller must avoid (the page's own article, stories
already on the page), is skipped and the next one takes its place. Near-duplicate pairs are
looked up in the neighbour profiles where those are known to be complete
(:func:`walk_known_pairs`), and computed otherwise.

Pure computation: arrays in, row lists out.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._catalog import Catalog
from ._index import CosineIndex, top_rows
from ._profiles import NeighbourProfiles
from ._small_sets import isin

__all__ = ["best_distinct", "by_score_then_id", "drop_near_duplicates", "known_near_duplicates", "near_duplicate_of",
           "walk_known_pairs"]

CANDIDATE_SLACK = 8
"""Candidates looked at beyond ``2 * k`` before a walk asks for more (near-duplicates are rare)."""

WIDEN_FACTOR = 4
"""How much wider the next round of candidates is when near-duplicates emptied a walk."""


def by_score_then_id(rows: np.ndarray, scores: np.ndarray, catalog: Catalog) -> np.ndarray:
    """Positions that order ``rows`` by ``scores``, best first, ties by article id.

    Ids are read only for rows whose score is tied with another's, so ordering a pool costs
    one sort, not one id lookup per row.
    """
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    tied = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        same = ordered[1:] == ordered[:-1]
        tied[1:] |= same
        tied[:-1] |= same
    if not tied.any():
        return order
    id_rank = np.zeros(len(order), dtype=np.int64)
    tied_positions = order[tied]
    id_rank[tied_positions] = np.argsort(np.argsort(catalog.ids_of(rows[tied_positions]), kind="stable"))
    return np.lexsort((id_rank, -scores))


def best_distinct(
    rows: np.ndarray,
    scores: np.ndarray,
    index: CosineIndex,
    catalog: Catalog,
    k: int,
    threshold: float,
    avoid: np.ndarray | None = None,
    profiles: NeighbourProfiles | None = None,
    *,
    n_ordered: int = 0,
) -> list[tuple[int, float]]:
    """The ``k`` best ``(row, score)`` pairs among ``rows`` (aligned with ``scores``).

    Only positive scores count; best first, ties by article id. A row that is in
    ``avoid``, or a near-duplicate (cosine >= ``threshold``) of a row in ``avoid`` or of
    a row already taken, is skipped and the next best takes its place. ``n_ordered``: the
    first that many ``rows`` are the best, already in list order (positive scores, as
    :func:`by_score_then_id` orders them), so a walk that needs no more reads them in place
    instead of selecting and sorting.
    """
    width = 2 * k + CANDIDATE_SLACK
    while True:
        if width <= n_ordered or n_ordered == len(rows):
            positions = np.arange(min(width, n_ordered))
            exhausted = width >= n_ordered
        else:
            candidates = top_rows(scores, width)
            positions = candidates[np.lexsort(([catalog.id(rows[c]) for c in candidates], -scores[candidates]))]
            exhausted = len(candidates) < width
        chosen = drop_near_duplicates(rows[positions], index, threshold, k, avoid, profiles)
        if len(chosen) >= k or exhausted:
            break
        width *= WIDEN_FACTOR
    score_of = dict(zip(rows[positions].tolist(), scores[positions].tolist()))
    return [(row, float(score_of[row])) for row in chosen]


def known_near_duplicates(rows: np.ndarray, avoid: np.ndarray, threshold: float,
                          profiles: NeighbourProfiles | None) -> tuple[np.ndarray, np.ndarray]:
    """Which ``rows`` are in ``avoid`` or a near-duplicate of a row in it, as far as the
    profiles' near-duplicate pairs settle it (they are complete for a row whose profile bound
    is below ``threshold``), and the rows of ``avoid`` they do not settle, whose cosines must
    be computed (all of ``avoid`` without profiles)."""
    avoid = np.asarray(avoid, dtype=np.int64)
    blocked = isin(rows, avoid)
    if profiles is None or not len(avoid):
        return blocked, avoid
    settled = profiles.bound[avoid] < threshold
    pairs = profiles.near_duplicates(threshold)
    known = avoid[settled]
    firsts = pairs.indptr[known].astype(np.int64)
    counts = pairs.indptr[known + 1] - firsts
    at = np.repeat(firsts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return blocked | isin(rows, pairs.indices[at]), avoid[~settled]


def near_duplicate_of(rows: np.ndarray, index: CosineIndex, threshold: float, avoid: np.ndarray | None,
                      profiles: NeighbourProfiles | None = None) -> np.ndarray:
    """Boolean mask: which ``rows`` are in ``avoid`` or a near-duplicate of a row in it.

    With ``profiles``, the near-duplicates of a row of ``avoid`` whose profile bound is below
    ``threshold`` are read from the profiles' near-duplicate pairs (:func:`known_near_duplicates`);
    only the other rows of ``avoid`` are multiplied out.
    """
    if avoid is None or len(avoid) == 0 or len(rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    blocked, avoid = known_near_duplicates(rows, avoid, threshold, profiles)
    if not len(avoid):
        return blocked
    against = (index.select(rows) @ index.select(avoid).T).toarray()
    return blocked | (against.max(axis=1) >= threshold)


def drop_near_duplicates(
    ordered: np.ndarray, index: CosineIndex, threshold: float, k: int, avoid: np.ndarray | None = None,
    profiles: NeighbourProfiles | None = None,
) -> list[int]:
    """Walk rows best first, keeping at most ``k``, none a near-duplicate of another or of ``avoid``.

    With ``profiles`` whose near-duplicate pairs are complete for these rows (their
    :attr:`~recommender._profiles.NeighbourProfiles.bound` is below ``threshold``), pairs are
    looked up there instead of computed.
    """
    blocked = near_duplicate_of(ordered, index, threshold, avoid, profiles)
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

    ``pairs`` (:meth:`~recommender._profiles.NeighbourProfiles.near_duplicates`) is complete
    for rows whose ``bound`` is below ``threshold``; ``None`` when the walk reaches another row.
    """
    kept: list[int] = []
    for position, row in enumerate(ordered):
        if bound[row] >= threshold:
            return None
        start, end = pairs.indptr[row], pairs.indptr[row + 1]
        if (blocked is not None and blocked[position]) or (end > start and isin(pairs.indices[start:end], kept).any()):
            continue
        kept.append(row)
        if len(kept) == k:
            break
    return kept
