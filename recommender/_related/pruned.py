"""The profiles strategy: a Related list from the neighbour profiles, exact by score bounds.

How it works
------------
For an article ``a`` with profile ``q_a`` the anchored score of ``b`` is
``(cos(a, b) + q_a . q_b) / (n_a n_b)`` (see :mod:`recommender._profiles`). A list is built in
four named steps, each vectorised over a block of rows:

1. :func:`_known_candidates`: the articles linked to ``a`` by a profile, either way. Their
   cosine is stored in the profiles, so their score is exact.
2. :func:`_overlap_candidates`: the articles whose profile overlaps ``a``'s
   (``q_a @ profile postings``: about ``m^2`` operations, against the whole archive's postings
   for the full product). Their cosine is at most ``min(bound[a], bound[b])``
   (:attr:`~recommender._profiles.NeighbourProfiles.bound`), which bounds their score; the
   cosine is computed (:meth:`~recommender._index.CosineIndex.pair_cosines`, equal bit for bit to
   the full product) only where that bound reaches the row's k-th exact score, best bound
   first, in rounds that raise the k-th score with what they find (:func:`_best_bounded_first`).
   Most overlaps are too small for any bound to reach it and are bounded together by one cut
   per row (:func:`_overlap_cut`). With numba, the product is a compiled pass
   (:mod:`.close_overlap`) that hands over only the entries this step can use, with a bound
   on the score of the rest: a few hundred entries instead of tens of thousands.
3. The scored candidates of each row are ordered (ties by id) and walked down, skipping
   near-duplicates (:func:`~recommender._distinct.walk_known_pairs`).
4. :func:`_settled`: a list is kept only when its last score beats every bound left, including
   ``bound[a] / n_a``, the most an article linked to ``a`` in no way can score; so it equals
   the full product's list, scores included. Where only that last bound is in the way,
   :func:`_unlinked_hits` scores the few articles that could still beat the list without a
   link: an unlinked ``b`` scores ``cos(a, b) / (n_a n_b)`` with ``cos(a, b) <= min(bound[a],
   bound[b])``, so only rows with ``bound[b] / n_b`` at or above the list's last score times
   ``n_a`` can (a scan of one array, then :meth:`~recommender._index.CosineIndex.pair_cosines`
   for them, where they hold fewer non-zeros than the full product would read). Rows the
   bounds still cannot settle come back as ``None``, and the search takes the full product
   for them (:mod:`.full`).

A section or age filter (``filtered_out``) only removes candidates; the bounds stay valid. So
does the time-proximity prior (:mod:`.time_prior`): it scales the profile part of a score by a
factor in ``[floor, 1]``, so an undecayed score bounds the decayed one; exact scores are decayed
as the full product decays them, and the bounds left are widened by a few ulps for the rounding.

Pure computation: arrays in, ``(row, score)`` lists out.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._catalog import Catalog
from .._distinct import walk_known_pairs
from .._profiles import NeighbourProfiles
from .._state import ModelState
from .close_overlap import close_overlaps
from .time_prior import TimePrior, decayed, decayed_pairs

__all__ = ["pruned_lists"]

SCRATCH_ENTRIES = 2_000_000
"""Dense scratch for pair lookups (int32, 8 MB: twenty rows at a time at 100k articles)."""

FIRST_ROUND = 8
"""Candidates per row scored in the first round of :func:`_best_bounded_first` (doubling after)."""

UNLINKED_SLACK = np.float32(1 - 1e-5)
"""Relative margin under which :func:`_unlinked_hits` takes a row's reach as too low: the float32
rounding of ``cos / (n_a n_b)`` and of the decay is a few ulps (1e-7 each)."""

PRIOR_BOUND_SLACK = np.float32(1 + 1e-6)
"""Relative widening of the bounds left when a prior decays the exact scores: a decayed score
is at most its undecayed bound up to float32 rounding (an ulp is 6e-8 of the value)."""


class _Entries(NamedTuple):
    """CSR parts of a block's rows, without a scipy matrix (building one costs more than a
    query's arithmetic)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray


class _Scored(NamedTuple):
    """Candidates with an exact score: block position, column (row of the archive), score."""

    position: np.ndarray
    column: np.ndarray
    score: np.ndarray


def pruned_lists(
    state: ModelState, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float,
    filtered_out: np.ndarray | None = None, core: sp.csr_matrix | None = None, prior: TimePrior | None = None,
) -> list[list[tuple[int, float]] | None]:
    """Related lists of ``rows`` from the profiles where score bounds prove them exact; ``None`` elsewhere.

    Parameters
    ----------
    state : ModelState
        A model with neighbour profiles.
    rows : ndarray of int64, shape (n,)
    k : int
    duplicate_threshold, min_similarity : float
    filtered_out : ndarray of bool, shape (n_rows,), optional
        Rows a section or age filter rules out, the same for every row of the block.
    core : scipy.sparse.csr_matrix of shape (n, n_rows), optional
        The rows' :meth:`~recommender._profiles.NeighbourProfiles.core_of_rows`, if at hand.
    prior : TimePrior, optional
        The time-proximity prior: exact scores are decayed as :func:`.time_prior.decayed` does.

    Returns
    -------
    list of (list of (int, float) or None)
        One entry per row: its list, best first, or ``None`` when the bounds cannot settle it.
    """
    profiles = state.profiles
    selected = profiles.select(rows)
    known = _Entries(*profiles.links(rows, selected))  # cosines a profile holds, either way
    known_position = np.repeat(np.arange(len(rows)), np.diff(known.indptr))
    if filtered_out is not None and _filter_starves_every_row(state, rows, known, known_position, k,
                                                            duplicate_threshold, min_similarity, filtered_out):
        return [None] * len(rows)
    if profiles.core_weight and core is None:
        core = profiles.core_of_rows(rows)
    scored_core = core if profiles.core_weight else None
    close = close_overlaps(state, rows, selected, known, scored_core, k, duplicate_threshold, min_similarity,
                           filtered_out, prior)
    if close is None:  # indices unsorted within rows: sorting them costs more than the rest
        overlap, left_out = _Entries(*profiles.overlap_parts(selected)), np.full(len(rows), -np.inf, np.float32)
    else:
        overlap, left_out = _Entries(*close[0]), close[1]
    at, core_at = _entries_of(overlap, [known, scored_core], state.index.n_rows)
    terms = _core_terms(profiles, overlap, core, core_at)
    if terms is None:
        return [None] * len(rows)
    scored_known = _known_candidates(state, rows, known, known_position, overlap, at, terms, duplicate_threshold,
                                     min_similarity, filtered_out, prior)
    best = _best_per_row(np.full((len(rows), k), -np.inf, dtype=np.float32), scored_known.position,
                         scored_known.score)
    scored_close, left_max = _overlap_candidates(state, rows, overlap, at, terms, best, min_similarity, filtered_out,
                                                 prior)
    left_max = np.maximum(left_max, left_out)  # the entries close_overlaps left out
    return _settled(state, rows, k, duplicate_threshold, min_similarity, scored_known, scored_close, left_max,
                    filtered_out, prior)


def _core_terms(profiles: NeighbourProfiles, overlap: _Entries, core: sp.csr_matrix | None,
                where: np.ndarray | None) -> np.ndarray | None:
    """The weighted core overlap of each profile-overlap entry (0 for most): the score's second
    term, aligned with ``overlap.data``; ``where`` holds each core entry's position in
    ``overlap``. ``None`` if a core entry has no overlap entry (it cannot happen in exact
    arithmetic; the block then takes the full product)."""
    terms = np.zeros(len(overlap.data), dtype=np.float32)
    if not profiles.core_weight:
        return terms
    if (where < 0).any():
        return None
    terms[where] = profiles.core_weight * core.data
    return terms


def _filter_starves_every_row(state: ModelState, rows: np.ndarray, known: _Entries, known_position: np.ndarray,
                              k: int, duplicate_threshold: float, min_similarity: float,
                              filtered_out: np.ndarray) -> bool:
    """Whether a filter leaves every row of the block fewer than ``k`` profile links while its
    bound admits related articles elsewhere (other-section lists, say): nearly every overlap
    would be scored one by one and rarely settle, so the block goes to the full product."""
    removed, bound = state.catalog.removed, state.profiles.bound
    links = ((known.data >= min_similarity) & (known.data < duplicate_threshold) & ~filtered_out[known.indices]
             & ~removed[known.indices] & (known.indices != rows[known_position]))
    return bool(((np.bincount(known_position[links], minlength=len(rows)) < k)
                 & (bound[rows] >= min_similarity)).all())


def _known_candidates(state: ModelState, rows: np.ndarray, known: _Entries, known_position: np.ndarray,
                      overlap: _Entries, at: np.ndarray, core: np.ndarray, duplicate_threshold: float,
                      min_similarity: float, filtered_out: np.ndarray | None, prior: TimePrior | None) -> _Scored:
    """Step 1: exact scores of the candidates with a known cosine (``-inf`` where unusable):
    cos + overlap then one division in float32, then the core term added, the arithmetic of
    ``NeighbourProfiles.anchored``; then the prior, if any."""
    norms, removed = state.profiles.norms, state.catalog.removed
    found = at >= 0
    known_row, known_column = rows[known_position], known.indices.astype(np.int64)
    known_sums = known.data.copy()
    known_sums[found] = known.data[found] + overlap.data[at[found]]
    known_scores = (known_sums / (norms[known_row] * norms[known_column])).astype(np.float32)
    known_scores[found] += core[at[found]]  # adding 0 leaves a score as it is
    known_scores = decayed_pairs(state, prior, known_scores, known.data, known_row, known_column)
    unusable = ((known_column == known_row) | (known.data >= duplicate_threshold) | (known.data < min_similarity)
                | ~(known_scores > 0))
    if state.catalog.any_removed:
        unusable |= removed[known_column]
    if filtered_out is not None:
        unusable |= filtered_out[known_column]
    known_scores[unusable] = -np.inf
    return _Scored(known_position, known_column, known_scores)


def _overlap_candidates(state: ModelState, rows: np.ndarray, overlap: _Entries, at: np.ndarray,
                        core: np.ndarray, best: np.ndarray, min_similarity: float,
                        filtered_out: np.ndarray | None, prior: TimePrior | None) -> tuple[_Scored, np.ndarray]:
    """Step 2: candidates linked by overlap only, scored where their bound reaches the row's
    k-th known score; and per row, the largest bound of those left unscored.

    A cosine is at most ``min(bound[a], bound[b])`` (not listed at all if that is below
    ``min_similarity``). Since norms >= 1 and the ceiling is at most ``bound[a]``, an entry's
    bound is at most ``(overlap + bound[a]) / n_a``, below the k-th score when the overlap is
    below ``cut`` (chosen so, in float32): only the rest are bounded one by one. The cut's
    bound holds no core term, so entries with one (a few per row) are always bounded one by
    one, their core term added to the bound. With a prior, an entry's bound has its profile
    part decayed by the pair's factor (known without the cosine), which keeps the number of
    cosines computed near the undecayed search's.
    """
    profiles, removed = state.profiles, state.catalog.removed
    bound, norms = profiles.bound, profiles.norms
    kth = _kth(best)
    cut, cut_ceiling = _overlap_cut(kth, bound[rows], norms[rows])
    with_core = core > 0
    row_cut = cut[0] if len(rows) == 1 else np.repeat(cut, np.diff(overlap.indptr))
    close = np.flatnonzero((overlap.data >= row_cut) | with_core)
    is_known = np.zeros(len(overlap.data), dtype=bool)
    is_known[at[at >= 0]] = True
    close = close[~is_known[close]]  # scored in step 1
    close_position = np.repeat(np.arange(len(rows)), np.diff(np.searchsorted(close, overlap.indptr)))
    close_row, close_column = rows[close_position], overlap.indices[close].astype(np.int64)
    ceiling = np.minimum(bound[close_row], bound[close_column])
    factor = None
    if prior is None:
        upper = (overlap.data[close] + ceiling) / (norms[close_row] * norms[close_column]) + core[close]
    else:  # the decayed bound: the prior's factor of each pair is known without its cosine
        factor = prior.factor(state.catalog.published[close_row], state.catalog.published[close_column])
        upper = ((ceiling + factor * overlap.data[close]) / (norms[close_row] * norms[close_column])
                 + factor * core[close])
    upper[(close_column == close_row) | (ceiling < min_similarity)] = -np.inf
    if state.catalog.any_removed:
        upper[removed[close_column]] = -np.inf
    if filtered_out is not None:
        upper[filtered_out[close_column]] = -np.inf
    def exact(chosen: np.ndarray) -> np.ndarray:
        """Exact scores of the ``close`` entries at ``chosen`` (``-inf`` below the relevance gate)."""
        pair_row, pair_column = close_row[chosen], close_column[chosen]
        cosines = state.index.pair_cosines(pair_row, pair_column)
        pair_norms = norms[pair_row] * norms[pair_column]
        scores = ((cosines + overlap.data[close[chosen]]) / pair_norms).astype(np.float32)
        scores += core[close[chosen]]
        if factor is not None:  # the prior, as the full product applies it (the pairs' factors are at hand)
            scores = decayed(scores, cosines, pair_norms, factor[chosen])
        scores[cosines < min_similarity] = -np.inf
        return scores

    # with a prior, _settled widens the bounds left by PRIOR_BOUND_SLACK: choose on the widened bound
    widen = np.float32(1) if prior is None else PRIOR_BOUND_SLACK
    needed, needed_scores = _best_bounded_first(exact, upper, close_position, best, widen)
    upper[needed] = -np.inf
    # never scored: must stay below each list's last score (entries under the cut are below cut_ceiling)
    left_max = np.maximum(_max_per_row(upper, np.searchsorted(close_position, np.arange(len(rows) + 1))),
                          cut_ceiling)
    return _Scored(close_position[needed], close_column[needed], needed_scores), left_max


def _best_bounded_first(exact, upper: np.ndarray, position: np.ndarray, best: np.ndarray,
                        widen: np.float32 = np.float32(1)) -> tuple[np.ndarray, np.ndarray]:
    """Which candidates to score exactly, and their ``exact`` scores: those whose ``upper`` bound
    (times ``widen``, the factor by which :func:`_settled` widens the bounds left) reaches their
    row's k-th exact score (``best``: each row's k best exact scores so far), taken in rounds,
    highest bound first (a threshold algorithm). Each round scores up to ``FIRST_ROUND``, then
    twice as many, of each row's best-bounded candidates still above its k-th score, and raises
    that k-th score with what it found, so a row stops as soon as no bound left can reach it."""
    kth = _kth(best)
    widened = upper * widen
    candidates = np.flatnonzero(np.isfinite(widened) & (widened >= kth[position]))
    candidates = candidates[np.lexsort((-widened[candidates], position[candidates]))]
    owner, bounds = position[candidates], widened[candidates]
    rank = np.arange(len(candidates)) - np.searchsorted(owner, owner)
    scored_parts, score_parts = [], []
    done, size = 0, FIRST_ROUND
    while True:
        chosen = (rank >= done) & (rank < done + size) & (bounds >= kth[owner])
        if not chosen.any():
            break
        where = np.flatnonzero(chosen)
        scores = exact(candidates[where])
        scored_parts.append(where)
        score_parts.append(scores)
        best = _best_per_row(best, owner[where], scores)
        kth = _kth(best)
        done, size = done + size, size * 2
    if not scored_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return candidates[np.concatenate(scored_parts)], np.concatenate(score_parts).astype(np.float32)


def _settled(state: ModelState, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float,
             known: _Scored, close: _Scored, left_max: np.ndarray, filtered_out: np.ndarray | None = None,
             prior: TimePrior | None = None) -> list[list[tuple[int, float]] | None]:
    """Steps 3 and 4: order each row's scored candidates (ties by id), walk them skipping
    near-duplicates, and keep the list only where no bound left can reach its last score
    (bounds widened by ``PRIOR_BOUND_SLACK`` when a ``prior`` decayed the scores), after
    scoring the unlinked articles that could (:func:`_unlinked_hits`) where that is the only
    bound in the way."""
    profiles, catalog = state.profiles, state.catalog
    bound, norms = profiles.bound, profiles.norms
    # the most an article with no link to the row can score (nothing, if its cosine cannot reach min_similarity)
    beyond = np.where(bound[rows] >= min_similarity, bound[rows] / norms[rows], -np.inf)
    if prior is not None:
        beyond, left_max = beyond * PRIOR_BOUND_SLACK, left_max * PRIOR_BOUND_SLACK
    position = np.concatenate([known.position, close.position])
    column = np.concatenate([known.column, close.column])
    scores = np.concatenate([known.score, close.score])
    finite = np.flatnonzero(np.isfinite(scores))
    order = finite[np.lexsort((-scores[finite], position[finite]))]
    sorted_position = position[order]
    starts = np.searchsorted(sorted_position, np.arange(len(rows) + 1)).tolist()
    sorted_columns, sorted_scores = column[order], scores[order]
    # rows holding equal scores: those are ordered by id, as related() does
    tied = set(sorted_position[1:][(sorted_scores[1:] == sorted_scores[:-1])
                                   & (sorted_position[1:] == sorted_position[:-1])].tolist())
    columns_list, scores_list = sorted_columns.tolist(), sorted_scores.tolist()
    duplicates = profiles.near_duplicates(duplicate_threshold)
    lists: list[list[tuple[int, float]] | None] = []
    for i, query in enumerate(rows.tolist()):
        if bound[query] >= duplicate_threshold:  # near-duplicates may hide outside the profile
            lists.append(None)
            continue
        mine_columns, mine_scores = columns_list[starts[i]:starts[i + 1]], scores_list[starts[i]:starts[i + 1]]
        if i in tied:
            mine_columns, mine_scores = _ranked(mine_columns, mine_scores, catalog)
        hits = _walk(mine_columns, mine_scores, duplicates, bound, duplicate_threshold, k)
        floor = 0.0 if hits is None or len(hits) < k else hits[-1][1]  # a short list: nothing may be left
        if hits is None or left_max[i] >= floor:
            lists.append(None)
        elif beyond[i] >= floor:
            lists.append(_unlinked_hits(state, query, hits, mine_columns, mine_scores, k, duplicate_threshold,
                                        min_similarity, filtered_out, prior))
        else:
            lists.append(hits)
    return lists


def _unlinked_hits(state: ModelState, row: int, hits: list[tuple[int, float]], columns: list[int],
                   scores: list[float], k: int, duplicate_threshold: float, min_similarity: float,
                   filtered_out: np.ndarray | None, prior: TimePrior | None) -> list[tuple[int, float]] | None:
    """The list of ``row`` from its scored candidates (``columns``, ``scores``, best first; their
    list ``hits``, ``k`` long, last score ``floor``) and the articles linked to it in no way that
    reach ``floor``; ``None`` when that cannot be settled here (too many such articles, or a
    near-duplicate skip that lowers the last score).

    Every bound but the unlinked articles' is already below ``floor``. An unlinked ``b`` has
    no profile overlap or core term, so it scores ``cos / (n_a n_b)`` (the prior decays
    nothing of it), and its cosine is at most ``min(bound[a], bound[b])``: it reaches
    ``floor`` only if ``bound[b] / n_b >= floor * n_a``. Those rows are scored exactly; an
    overlap entry among them that the search left unscored scores, without its overlap, at
    most its true score, which is below ``floor``, so it is never taken in.
    """
    profiles = state.profiles
    norms, bound = profiles.norms, profiles.bound
    floor = hits[-1][1] if len(hits) == k else 0.0  # a short list: every article may enter
    if not floor > 0:
        return None
    need = np.float32(floor) * norms[row] * UNLINKED_SLACK  # the cosine an unlinked article needs, at n_b = 1
    # cos <= bound[b] and cos <= bound[a], against cos >= floor n_a n_b
    candidates = np.flatnonzero((profiles.reach >= need) & (norms * need <= bound[row]))
    if state.index.row_lengths(candidates).sum() > state.index.posting_volume(row):
        return None  # the pairs would read more than the full product
    unusable = np.isin(candidates, columns) | (candidates == row)
    if state.catalog.any_removed:
        unusable |= state.catalog.removed[candidates]
    if filtered_out is not None:
        unusable |= filtered_out[candidates]
    candidates = candidates[~unusable]
    cosines = state.index.pair_cosines(np.full(len(candidates), row), candidates)
    pair_norms = norms[row] * norms[candidates]
    found = decayed_pairs(state, prior, (cosines / pair_norms).astype(np.float32), cosines, row, candidates)
    taken = np.flatnonzero((found >= floor) & (cosines >= min_similarity) & (cosines < duplicate_threshold))
    if not len(taken):
        return hits
    columns, scores = _ranked(columns + candidates[taken].tolist(), scores + found[taken].tolist(), state.catalog)
    hits = _walk(columns, scores, profiles.near_duplicates(duplicate_threshold), bound, duplicate_threshold, k)
    if hits is None or len(hits) < k or hits[-1][1] < floor:  # a skip let a score under floor in
        return None
    return hits


def _ranked(columns: list[int], scores: list[float], catalog: Catalog) -> tuple[list[int], list[float]]:
    """``columns`` and their ``scores`` ordered best first, equal scores by article id (as
    related() orders them)."""
    by_rank = sorted(zip(columns, scores), key=lambda hit: (-hit[1], catalog.id(hit[0])))
    return [hit[0] for hit in by_rank], [hit[1] for hit in by_rank]


def _entries_of(matrix: _Entries, wanted: list, n_columns: int) -> list[np.ndarray | None]:
    """For each entry of each ``wanted`` matrix (CSR parts, same rows; ``None`` for none), the
    position of the same (row, column) entry in ``matrix``, or -1 (through an int32 scratch: a
    block's overlap holds far fewer than 2**31 entries); ``matrix`` may have unsorted
    indices. A dense scratch of a few rows' width is reused, so the lookups run a few rows at a
    time, vectorised, each of ``matrix``'s keys written once for every ``wanted``."""
    n_rows = len(matrix.indptr) - 1
    step = max(1, min(n_rows, SCRATCH_ENTRIES // max(n_columns, 1)))  # one row for one query
    slot = _slots(step * n_columns)
    found = [None if other is None else np.full(len(other.indices), -1, dtype=np.int64) for other in wanted]
    clean = False
    try:
        for first in range(0, n_rows, step):
            last = min(first + step, n_rows)
            start, end = int(matrix.indptr[first]), int(matrix.indptr[last])
            keys = _local_keys(matrix.indptr[first:last + 1], matrix.indices[start:end], n_columns)
            slot[keys] = np.arange(start, end, dtype=np.int32)
            for other, where in zip(wanted, found):
                if other is not None:
                    other_start, other_end = int(other.indptr[first]), int(other.indptr[last])
                    where[other_start:other_end] = slot[_local_keys(other.indptr[first:last + 1],
                                                                    other.indices[other_start:other_end], n_columns)]
            slot[keys] = -1
        clean = True
    finally:
        if not clean:  # interrupted between writing and clearing: the next call needs a clean scratch
            slot.fill(-1)
    return found


_scratch = threading.local()


def _slots(size: int) -> np.ndarray:
    """This thread's lookup scratch, all -1, of at least ``size`` entries: allocated once per
    thread (a call leaves it as it found it), not once per query."""
    slots = getattr(_scratch, "slots", None)
    if slots is None or len(slots) < size:
        slots = _scratch.slots = np.full(size, -1, dtype=np.int32)
    return slots


def _local_keys(indptr: np.ndarray, indices: np.ndarray, n_columns: int) -> np.ndarray:
    """``row * n_columns + column`` of a run of CSR rows, rows counted from the first."""
    if len(indptr) == 2:  # one row: its columns
        return indices
    return np.repeat(np.arange(len(indptr) - 1, dtype=np.int64) * n_columns, np.diff(indptr)) + indices


def _overlap_cut(kth: np.ndarray, bound: np.ndarray, norms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, an overlap ``cut`` and ``ceiling = (cut + bound) / norms`` in float32 arithmetic,
    with ``ceiling < kth`` wherever ``kth > 0`` (``-inf`` for both elsewhere).

    Rounding is monotone, so an overlap ``v < cut`` gives ``(v + bound) / norms <= ceiling``:
    every overlap under the cut is bounded by the ceiling without being looked at.
    """
    kth, bound, norms = (np.asarray(values, dtype=np.float32) for values in (kth, bound, norms))
    cut = (kth * norms - bound) * np.float32(1 - 1e-5) - np.float32(1e-6)
    ceiling = (cut + bound) / norms
    unsafe = ~(ceiling < kth) | ~(kth > 0)
    cut[unsafe], ceiling[unsafe] = -np.inf, -np.inf
    return cut, ceiling


def _max_per_row(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Largest value of each CSR row (``-inf`` for an empty row)."""
    padded = np.append(values, -np.inf).astype(np.float32)
    maxima = np.maximum.reduceat(padded, np.minimum(indptr[:-1], len(values)))
    maxima[np.diff(indptr) == 0] = -np.inf
    return maxima


def _best_per_row(best: np.ndarray, position: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's ``k`` largest of its ``best`` (shape (n_rows, k), ``-inf`` for none) and of
    the finite ``values`` at ``position``, unordered but for the k-th largest in column ``k - 1``."""
    finite = np.isfinite(values)
    position, values = position[finite], values[finite]
    if not len(values):
        return best
    n_rows, k = best.shape
    if n_rows == 1:  # one query: no grid
        return -np.partition(-np.concatenate([best[0], values]), k - 1)[None, :k]
    counts = np.bincount(position, minlength=n_rows)
    order = np.argsort(position, kind="stable")
    grid = np.full((n_rows, k + int(counts.max())), -np.inf, dtype=np.float32)
    grid[:, :k] = best
    grid[position[order], k + np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)] = values[order]
    return -np.partition(-grid, k - 1, axis=1)[:, :k]


def _kth(best: np.ndarray) -> np.ndarray:
    """Each row's k-th largest exact score so far, 0 where it has fewer than ``k``."""
    kth = best[:, -1].astype(np.float32, copy=True)
    kth[~np.isfinite(kth)] = 0.0
    return kth


def _walk(columns: list[int], scores: list[float], duplicates: sp.csr_matrix, bound: np.ndarray,
          threshold: float, k: int) -> list[tuple[int, float]] | None:
    """Down a list best first, keep up to ``k`` rows none a near-duplicate of one kept;
    ``None`` when a near-duplicate test is unsure (a row whose profile cannot see them all)."""
    kept = walk_known_pairs(columns, duplicates, k, bound, threshold)
    if kept is None:
        return None
    if kept == columns[:len(kept)]:  # nothing skipped: the usual case
        return list(zip(kept, scores[:len(kept)]))
    score_of = dict(zip(columns, scores))
    return [(column, score_of[column]) for column in kept]
