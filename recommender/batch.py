"""Batch precomputation: every article's Related list for a whole archive.

How it works
------------
Articles are processed in blocks of ``block_size`` rows, and every list equals a single
:meth:`Recommender.related` call with default filters, scores bit for bit.

* **With neighbour profiles** (the default model), a block never multiplies against the
  whole archive. Each article's candidates are the articles linked to it by a profile
  (either way: their cosine is stored) and those whose profile overlaps its own
  (``profiles[block] @ profile_postings``: about ``m^2`` operations a row, whatever the
  archive size). Every other article's score has an upper bound from the profiles'
  m-th cosines (:func:`_pruned_lists`); the few candidates whose bound still reaches the
  list get their cosine computed pair by pair
  (:meth:`~recommender.index.CosineIndex.pair_cosines`). A list is kept only when its last
  score beats every bound left; the rare rows where it does not (and rows whose
  near-duplicates a profile may miss) take the full product below.
* **Full product** (models with ``neighbours=0``, and the unsettled rows): one sparse
  product ``vectors[block] @ postings`` gives each block article's cosine with every
  article (scipy's CSR kernel), plus ``profiles[block] @ profile_postings`` for the
  anchored score; then the same list builder as single calls
  (:func:`recommender.lists.best_distinct`). Memory per block is bounded by ``block_size``
  times the number of articles a block row shares a term with, never by the square of the
  archive.

:func:`related_arrays` returns fixed-shape arrays for use in Python;
:func:`recommender.precompute.precompute` writes SQLite and JSONL files for a site.

Pure computation: arrays in, arrays out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .lists import best_distinct, walk_known_pairs
from .persist import Fitted

__all__ = ["block_rows", "related_arrays", "related_block", "related_from_profiles"]


def block_rows(n_rows: int, block_size: int) -> list[np.ndarray]:
    """Row numbers ``0..n_rows-1`` cut into consecutive blocks."""
    return [np.arange(start, min(start + block_size, n_rows)) for start in range(0, n_rows, block_size)]


_PRODUCT_ENTRIES = 16_000_000  # a full product's entries held at once (~200 MB with the scores)
_SCRATCH_ENTRIES = 500_000  # dense scratch for pair lookups (4 MB: stays in cache)


def related_block(
    state: Fitted, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float
) -> list[list[tuple[int, float]]]:
    """Related lists of ``rows``: for each, up to ``k`` ``(row, score)`` pairs, best first.

    Equal to :meth:`Recommender.related` with default filters, row for row. With neighbour
    profiles the lists come from the profiles' candidates and score bounds
    (:func:`_pruned_lists`); rows those bounds cannot settle take the full product.
    """
    rows = np.asarray(rows, dtype=np.int64)
    k = min(k, state.index.n_rows)  # no list is longer than the archive (and k may be any int)
    if state.profiles is None or not _kernels_agree(state):
        return _full_lists(state, rows, k, duplicate_threshold, min_similarity)
    lists = _pruned_lists(state, rows, k, duplicate_threshold, min_similarity)
    unsettled = [position for position, hits in enumerate(lists) if hits is None]
    if unsettled:
        for position, hits in zip(unsettled, _full_lists(state, rows[unsettled], k, duplicate_threshold, min_similarity)):
            lists[position] = hits
    return lists


def related_from_profiles(
    state: Fitted, row: int, k: int, duplicate_threshold: float, min_similarity: float,
    filtered_out: np.ndarray | None = None,
) -> list[tuple[int, float]] | None:
    """One article's Related list from its profile candidates and score bounds, equal to the
    full product's (see :func:`_pruned_lists`); ``None`` when the bounds cannot settle it
    (or the model has no profiles), and the caller takes the full product.

    ``filtered_out``: rows a section or age filter rules out (boolean over every row).
    """
    if state.profiles is None or not _kernels_agree(state):
        return None
    k = min(k, state.index.n_rows)
    return _pruned_lists(state, np.array([row], dtype=np.int64), k, duplicate_threshold, min_similarity,
                         filtered_out)[0]


def _kernels_agree(state: Fitted, sample: int = 8) -> bool:
    """Whether the cosines the pruned path reads (profiles, :meth:`CosineIndex.pair_cosines`)
    equal the full product's bit for bit on this platform (a compiler may fuse multiply-adds in
    one kernel and not another); checked once per profiles object on a few rows."""
    profiles, index = state.profiles, state.index
    verdict = profiles.cache.get("kernels_agree")
    if verdict is None:
        verdict = True
        for row in np.linspace(0, profiles.n_rows - 1, min(sample, profiles.n_rows)).astype(np.int64).tolist():
            columns, cosines = profiles.row(row)
            full = index.scores(index.row_vector(row))
            pairs = index.pair_cosines(np.full(len(columns), row), columns)
            verdict &= bool(np.array_equal(full[columns], cosines) and np.array_equal(pairs, cosines))
        profiles.cache["kernels_agree"] = verdict
    return verdict


def _full_lists(
    state: Fitted, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float
) -> list[list[tuple[int, float]]]:
    """Related lists from the full products ``vectors[rows] @ postings`` (and the profiles').

    A product row holds up to one entry per article, so rows are multiplied a few at a time
    (at most ``_PRODUCT_ENTRIES`` entries in all): memory stays bounded whatever the block size.
    """
    step = max(1, _PRODUCT_ENTRIES // max(state.index.n_rows, 1))
    if len(rows) > step:
        return [hits for start in range(0, len(rows), step)
                for hits in _full_lists(state, rows[start:start + step], k, duplicate_threshold, min_similarity)]
    index, catalog = state.index, state.catalog
    cosines = index.product(index.select(rows))
    product = cosines if state.profiles is None else state.profiles.block_scores(rows, cosines)
    scratch = np.zeros(index.n_rows, dtype=np.float32)  # one row's cosines, dense
    lists = []
    for position, row in enumerate(rows):
        start, end = product.indptr[position], product.indptr[position + 1]
        columns, scores = product.indices[start:end], product.data[start:end].copy()
        cosine_start, cosine_end = cosines.indptr[position], cosines.indptr[position + 1]
        scratch[cosines.indices[cosine_start:cosine_end]] = cosines.data[cosine_start:cosine_end]
        cosine = scratch[columns]
        scratch[cosines.indices[cosine_start:cosine_end]] = 0
        scores[(cosine >= duplicate_threshold) | (cosine < min_similarity) | (columns == row)
               | catalog.removed[columns]] = -np.inf
        # the row itself and its near-duplicates are masked above, as in a single related() call
        lists.append(best_distinct(columns.astype(np.int64), scores, index, catalog, k, duplicate_threshold,
                                   profiles=state.profiles))
    return lists


def _pruned_lists(
    state: Fitted, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float,
    filtered_out: np.ndarray | None = None,
) -> list[list[tuple[int, float]] | None]:
    """Related lists from the profiles alone where score bounds prove them exact; ``None`` elsewhere.

    For an article ``a`` with profile ``q_a`` the anchored score of ``b`` is
    ``(cos(a, b) + q_a . q_b) / (n_a n_b)``. The candidates are the articles whose profile
    overlaps ``a``'s (``q_a @ profile postings``: a few thousand operations, against the
    whole archive's postings for the full product) and those linked to ``a`` by a profile
    either way, whose cosine the profiles hold exactly. Any other article has a cosine of at
    most ``min(bound[a], bound[b])`` (:attr:`~recommender.profiles.NeighbourProfiles.bound`),
    which bounds its score; its cosine is computed (:meth:`~recommender.index.CosineIndex.pair_cosines`,
    equal bit for bit to the full product) only where that bound reaches the k-th score. A
    list is returned only when its last score beats every bound left, including
    ``bound[a] / n_a``, the most an article linked to ``a`` in no way can score; so it equals
    the full product's list, scores included. Every step is vectorised over the block but
    the final walk down each list (near-duplicates, ties by id).

    ``filtered_out`` (boolean over every row, the same for every row of the block) rules
    candidates out, as a section or age filter of :meth:`Recommender.related` does; the
    bounds stay valid, they only get fewer lists to settle.
    """
    profiles, index, catalog = state.profiles, state.index, state.catalog
    bound, norms, removed = profiles.bound, profiles.norms, catalog.removed
    selected = profiles.select(rows)
    # cosines a profile holds, either way (canonical CSR), and every profile overlap (sorted)
    known = selected.maximum(profiles.select_postings(rows))
    known_position = np.repeat(np.arange(len(rows)), np.diff(known.indptr))
    if filtered_out is not None:
        # A filter that leaves a row fewer than k profile links while its bound admits related
        # articles elsewhere (other-section lists, say) would have nearly every overlap scored
        # one by one, and rarely settle: when no row of the block can, skip to the full product.
        links = ((known.data >= min_similarity) & (known.data < duplicate_threshold) & ~filtered_out[known.indices]
                 & ~removed[known.indices] & (known.indices != rows[known_position]))
        if ((np.bincount(known_position[links], minlength=len(rows)) < k) & (bound[rows] >= min_similarity)).all():
            return [None] * len(rows)
    overlap = profiles.overlap(selected)  # indices unsorted within rows: sorting them costs more than the rest
    # 1. candidates with a known cosine: exact scores, cos + overlap then one division in
    #    float32, the arithmetic of NeighbourProfiles.anchored
    at = _entries_of(overlap, known, index.n_rows)
    found = at >= 0
    known_row, known_column = rows[known_position], known.indices.astype(np.int64)
    known_sums = known.data.copy()
    known_sums[found] = known.data[found] + overlap.data[at[found]]
    known_scores = (known_sums / (norms[known_row] * norms[known_column])).astype(np.float32)
    unusable = ((known_column == known_row) | (known.data >= duplicate_threshold) | (known.data < min_similarity)
                | ~(known_scores > 0))
    if catalog.any_removed:
        unusable |= removed[known_column]
    if filtered_out is not None:
        unusable |= filtered_out[known_column]
    known_scores[unusable] = -np.inf
    usable = ~unusable
    kth = _kth_per_row(known_position[usable], known_scores[usable], len(rows), k, 0.0)
    # 2. candidates linked by overlap only: cosine at most min(bound[a], bound[b]) (not listed at all
    #    if that is below min_similarity); computed where the bound reaches the row's k-th known score.
    #    Most overlaps are too small for any bound to reach it: since norms >= 1 and the ceiling is at
    #    most bound[a], an entry's bound is at most (overlap + bound[a]) / n_a, below the k-th score
    #    when the overlap is below ``cut`` (chosen so, in float32), and only the rest are bounded one by one.
    cut, cut_ceiling = _overlap_cut(kth, bound[rows], norms[rows])
    counts = np.diff(overlap.indptr)
    close = np.flatnonzero(overlap.data >= np.repeat(cut, counts))
    is_known = np.zeros(overlap.nnz, dtype=bool)
    is_known[at[found]] = True
    close = close[~is_known[close]]  # scored above
    close_position = np.searchsorted(overlap.indptr, close, side="right") - 1
    close_row, close_column = rows[close_position], overlap.indices[close].astype(np.int64)
    ceiling = np.minimum(bound[close_row], bound[close_column])
    upper = (overlap.data[close] + ceiling) / (norms[close_row] * norms[close_column])
    upper[(close_column == close_row) | (ceiling < min_similarity)] = -np.inf
    if catalog.any_removed:
        upper[removed[close_column]] = -np.inf
    if filtered_out is not None:
        upper[filtered_out[close_column]] = -np.inf
    needed = np.flatnonzero(np.isfinite(upper) & (upper >= kth[close_position]))
    needed_row, needed_column = close_row[needed], close_column[needed]
    needed_cosines = index.pair_cosines(needed_row, needed_column)
    needed_scores = ((needed_cosines + overlap.data[close[needed]]) / (norms[needed_row] * norms[needed_column])
                     ).astype(np.float32)
    needed_scores[needed_cosines < min_similarity] = -np.inf
    upper[needed] = -np.inf
    # never scored: must stay below each list's last score (entries under the cut are below cut_ceiling)
    left_max = np.maximum(_max_per_row(upper, np.searchsorted(close_position, np.arange(len(rows) + 1))),
                          cut_ceiling)
    # the most an article with no link to the row can score (nothing, if its cosine cannot reach min_similarity)
    beyond = np.where(bound[rows] >= min_similarity, bound[rows] / norms[rows], -np.inf)
    position = np.concatenate([known_position, close_position[needed]])
    column = np.concatenate([known_column, needed_column])
    scores = np.concatenate([known_scores, needed_scores])
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
            by_rank = sorted(zip(mine_columns, mine_scores), key=lambda hit: (-hit[1], catalog.id(hit[0])))
            mine_columns, mine_scores = [hit[0] for hit in by_rank], [hit[1] for hit in by_rank]
        hits = _walk(mine_columns, mine_scores, duplicates, bound, duplicate_threshold, k)
        floor = 0.0 if hits is None or len(hits) < k else hits[-1][1]  # a short list: nothing may be left
        if hits is None or left_max[i] >= floor or beyond[i] >= floor:
            lists.append(None)
        else:
            lists.append(hits)
    return lists


def _entries_of(matrix: sp.csr_matrix, wanted: sp.csr_matrix, n_columns: int) -> np.ndarray:
    """For each entry of ``wanted`` (same rows), the position of the same (row, column) entry
    in ``matrix``, or -1; ``matrix`` may have unsorted indices. A dense scratch of a few rows'
    width is reused, so the lookups run a few rows at a time, vectorised."""
    step = max(1, min(matrix.shape[0], _SCRATCH_ENTRIES // max(n_columns, 1)))  # one row for one query
    slot = np.full(step * n_columns, -1, dtype=np.int64)
    found = np.full(wanted.nnz, -1, dtype=np.int64)
    for first in range(0, matrix.shape[0], step):
        last = min(first + step, matrix.shape[0])
        start, end = int(matrix.indptr[first]), int(matrix.indptr[last])
        keys = _local_keys(matrix.indptr[first:last + 1], matrix.indices[start:end], n_columns)
        slot[keys] = np.arange(start, end)
        wanted_start, wanted_end = int(wanted.indptr[first]), int(wanted.indptr[last])
        found[wanted_start:wanted_end] = slot[_local_keys(wanted.indptr[first:last + 1],
                                                          wanted.indices[wanted_start:wanted_end], n_columns)]
        slot[keys] = -1
    return found


def _local_keys(indptr: np.ndarray, indices: np.ndarray, n_columns: int) -> np.ndarray:
    """``row * n_columns + column`` of a run of CSR rows, rows counted from the first."""
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


def _kth_per_row(position: np.ndarray, values: np.ndarray, n_rows: int, k: int, default: float) -> np.ndarray:
    """For each row, its k-th largest value (``default`` where it has fewer than ``k``)."""
    order = np.lexsort((-values, position))
    starts = np.searchsorted(position[order], np.arange(n_rows))
    counts = np.bincount(position, minlength=n_rows)
    kth = np.full(n_rows, default, dtype=np.float32)
    full = counts >= k
    kth[full] = values[order[starts[full] + k - 1]]
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


def related_arrays(
    state: Fitted,
    rows: Sequence[int] | np.ndarray,
    k: int,
    duplicate_threshold: float,
    min_similarity: float,
    *,
    block_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Related lists of many rows as fixed-shape arrays.

    Returns
    -------
    ids : ndarray of object (str), shape (n, k)
        Article ids, best first; ``""`` where a list is shorter than ``k``.
    scores : ndarray of float32, shape (n, k)
        Related scores (as :meth:`Recommender.related`); ``nan`` where a list is shorter than ``k``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    ids = np.full((len(rows), k), "", dtype=object)
    scores = np.full((len(rows), k), np.nan, dtype=np.float32)
    for start in range(0, len(rows), block_size):
        block = rows[start:start + block_size]
        lists = related_block(state, block, k, duplicate_threshold, min_similarity)
        line = np.repeat(np.arange(start, start + len(block)), [len(hits) for hits in lists])
        rank = np.concatenate([np.arange(len(hits)) for hits in lists]) if len(line) else line
        hit_rows = [row for hits in lists for row, _ in hits]
        ids[line, rank] = state.catalog.ids_of(hit_rows)
        scores[line, rank] = [score for hits in lists for _, score in hits]
    return ids, scores
