"""The profile overlaps a Related list can use, without the rest (optional: needs numba).

How it works
------------
:func:`~recommender._related.pruned.pruned_lists` reads a query's overlap with every profile
that shares a neighbour with its own (``q_a @ profile postings``: 12k entries per article at
100k articles, 53k at 1M), but uses only a few hundred of them: those of the articles the
profiles link to ``a`` (their scores are exact), those with a core term, and those whose
bound could still reach the row's k-th score. With numba, one compiled pass per row
(:func:`close_overlaps`) does that selection where the products are added:

1. the products go into a dense scratch as scipy's sparse product adds them, concept by
   concept in the query's order, so each overlap is the product's bit for bit (on profiles
   with rows added since the fit, the corrections' products are summed apart and added as
   scipy adds the two products). The scratch covers :data:`TILE_COLUMNS` columns: each
   concept's postings (in column order) are walked a tile at a time, so the sums stay in the
   core's cache; the tile's sums are then read out at the columns touched and cleared;
2. the linked articles' scores (overlap, core term and time prior included, as
   :func:`~recommender._related.pruned._known_candidates` computes them) give the k-th score,
   lowered by a relative ``1e-4`` for rounding;
3. an entry is handed back if it is linked or has a core term, or if its bound, the score it
   would have at the largest cosine its two articles' profiles allow, reaches that k-th score
   (first the cut on the overlap alone that the search uses, then the entry's own bound).

Every entry left out scores below the k-th score (the ``left_out`` bound returned), which the
search counts among the bounds left: a list is kept only where it beats them, so lists stay
exact whatever this pass leaves out; it leaves out only what the search would not score.

Pure computation apart from each thread's scratch, kept between calls (all zeros between them).
"""

from __future__ import annotations

import functools
import importlib.util
import threading

import numpy as np
import scipy.sparse as sp

from .._kept import KeptPerOwner
from .._sparse_kernels import unsigned
from .._state import ModelState
from .._time_locality import SECONDS_PER_DAY
from .time_prior import TimePrior

__all__ = ["AVAILABLE", "close_overlaps", "load_compiled_pass"]

AVAILABLE = importlib.util.find_spec("numba") is not None
"""Whether the compiled pass can run here (numba installed); else the search takes scipy's
product. numba is imported on the first list searched, not with the library."""

TILE_COLUMNS = 65_536
"""Columns whose sums are added at a time (256 KB of float32): they stay in the core's cache
while a row's products land at scattered columns; an archive-wide scratch (4 MB at 1M
articles) would not."""


def _pair_factor(published, row, column, scale_seconds, floor):  # pragma: no cover - compiled
    """The time prior's factor of a pair (``TimePrior.factor``'s arithmetic); 1 without a prior."""
    if scale_seconds <= 0:
        return np.float32(1)
    gap = (np.float64(published[row]) - np.float64(published[column])) / scale_seconds
    return np.float32(floor + (1.0 - floor) * np.exp(-0.5 * gap * gap))


def _tile_sums(indptr, indices, data, q_indices, q_data, first_q, last_q, n_concepts, cursors, side, stop,
                  shift, sums, touched, count, limit):  # pragma: no cover - compiled
    """Add the query's products with postings ``(indptr, indices, data)`` before column ``stop``
    into the tile ``sums`` (columns from ``shift``), concept by concept in the query's order, and
    move each concept's cursor (``cursors[:, side]``) past them; the columns whose sum first
    leaves 0 go to ``touched`` from ``count`` on (clamped to its spare slot). Returns the new count."""
    for e in range(first_q, last_q):
        concept = q_indices[e]
        if concept >= n_concepts:  # a row added since the base: only in the corrections
            continue
        weight = q_data[e]
        q, end = cursors[e - first_q, side], indptr[concept + 1]
        while q < end and indices[q] < stop:
            column = np.uint64(indices[q]) - shift
            value, product = sums[column], weight * data[q]
            touched[min(count, limit)] = column  # branch-free: kept when the sum first leaves 0
            count += (value == 0) & (product != 0)
            sums[column] = value + product
            q += 1
        cursors[e - first_q, side] = q
    return count


def _close(q_indptr, q_indices, q_data, p_indptr, p_indices, p_data, d_indptr, d_indices, d_data,
           k_indptr, k_indices, k_data, c_indptr, c_indices, c_terms, rows, norms, bound, removed, filtered,
           published, scale_seconds, floor, min_similarity, duplicate_threshold, k, scratch, marks, touched, best,
           corrections, corrected):  # pragma: no cover - compiled
    n_rows = len(q_indptr) - 1
    n = len(norms)
    width = len(scratch)  # columns of a tile
    n_base = len(p_indptr) - 1  # concepts of the base's postings; the corrections cover every row
    has_corrections = len(d_indptr) > 0
    limit = len(touched) - 1  # the spare slot: a write past it is clamped there
    most_concepts, most_links = 0, 0
    for r in range(n_rows):
        most_concepts = max(most_concepts, q_indptr[r + 1] - q_indptr[r])
        most_links = max(most_links, k_indptr[r + 1] - k_indptr[r])
    cursors = np.empty((most_concepts, 2), np.int64)  # each concept's next posting: base, corrections
    linked = np.empty(most_links, np.float32)  # the linked articles' overlaps
    capacity = 4096
    out_indices = np.empty(capacity, np.int64)
    out_data = np.empty(capacity, np.float32)
    out_indptr = np.zeros(n_rows + 1, np.int64)
    left_out = np.full(n_rows, -np.inf, np.float32)
    size = 0
    slack, rise = np.float32(1 - 1e-4), np.float32(1 + 1e-5)
    cut_slack, cut_tiny = np.float32(1 - 1e-5), np.float32(1e-6)
    for r in range(n_rows):
        row = rows[r]
        first_q, last_q, first_k, last_k = q_indptr[r], q_indptr[r + 1], k_indptr[r], k_indptr[r + 1]
        most = 0  # the row's products: an upper bound on its entries
        for e in range(first_q, last_q):
            concept = q_indices[e]
            if concept < n_base:
                cursors[e - first_q, 0] = p_indptr[concept]
                most += p_indptr[concept + 1] - p_indptr[concept]
            if has_corrections:
                cursors[e - first_q, 1] = d_indptr[concept]
                most += d_indptr[concept + 1] - d_indptr[concept]
        if size + min(most, n) > capacity:
            capacity = max(2 * capacity, size + min(most, n))
            grown_indices = np.empty(capacity, np.int64)
            grown_data = np.empty(capacity, np.float32)
            grown_indices[:size] = out_indices[:size]
            grown_data[:size] = out_data[:size]
            out_indices, out_data = grown_indices, grown_data
        for e in range(c_indptr[r], c_indptr[r + 1]):  # marked: handed back whatever their overlap
            marks[c_indices[e]] = 1
        for e in range(first_k, last_k):
            marks[k_indices[e]] = 1
        by_column = np.argsort(k_indices[first_k:last_k])  # the linked articles, tile by tile
        next_link, first = 0, size
        for start in range(0, n, width):  # a tile of columns at a time: its sums stay in the core's cache
            stop, shift = min(start + width, n), np.uint64(start)
            count = _add_postings(p_indptr, p_indices, p_data, q_indices, q_data, first_q, last_q, n_base, cursors,
                                  0, stop, shift, scratch, touched, 0, limit)
            if has_corrections:  # the corrections' product, summed apart and then added, as scipy adds the two
                n_corrected = _add_postings(d_indptr, d_indices, d_data, q_indices, q_data, first_q, last_q, n,
                                            cursors, 1, stop, shift, corrections, corrected, 0, limit)
                for t in range(min(n_corrected, limit)):
                    column = corrected[t]
                    touched[min(count, limit)] = column  # first touched here: the product had no entry
                    count += (scratch[column] == 0) & (corrections[column] != 0)
                    scratch[column] = scratch[column] + corrections[column]
                    corrections[column] = 0
                if n_corrected > limit:
                    count = limit + 1  # the corrections' sums lost: the caller takes scipy's product
            if count > limit:  # sums back at 0 (entries of both signs: not a fitted model's), the list lost
                scratch[:] = 0
                corrections[:] = 0
                marks[:] = 0
                return out_indptr, out_indices[:0], out_data[:0], left_out, False
            while next_link < last_k - first_k and k_indices[first_k + by_column[next_link]] < stop:
                linked[by_column[next_link]] = scratch[np.uint64(k_indices[first_k + by_column[next_link]]) - shift]
                next_link += 1
            for t in range(count):  # the tile's entries, the scratch cleared behind them
                column = touched[t]
                value = scratch[column]
                out_indices[size] = np.int64(column) + start  # branch-free: kept when not back at 0
                out_data[size] = value
                size += value != 0
                scratch[column] = 0
        kept = 0  # the k-th score: the k best scores of the linked articles, lowered by the slack
        for e in range(first_k, last_k):
            column, cosine = k_indices[e], k_data[e]
            if column == row or cosine >= duplicate_threshold or cosine < min_similarity:
                continue
            if (len(removed) and removed[column]) or (len(filtered) and filtered[column]):
                continue
            pair = norms[row] * norms[column]
            score = (cosine + linked[e - first_k]) / pair
            for c in range(c_indptr[r], c_indptr[r + 1]):  # a handful of core entries
                if c_indices[c] == column:
                    score += c_terms[c]
            own = cosine / pair
            score = (own + _factor(published, row, column, scale_seconds, floor) * (score - own)) * slack
            if not score > 0:
                continue
            if kept < k:
                best[kept] = score
                kept += 1
            else:
                low = 0
                for i in range(1, k):
                    if best[i] < best[low]:
                        low = i
                best[low] = max(best[low], score)
        kth = np.float32(0)
        cut = np.float32(-np.inf)
        if kept == k and k > 0:
            kth = best[0]
            for i in range(1, k):
                kth = min(kth, best[i])
            cut = (kth * norms[row] - bound[row]) * cut_slack - cut_tiny  # (cut + bound) / norm < kth
            left_out[r] = kth * rise
        end, size = size, first  # keep the marked entries, and those whose bound reaches the k-th score
        for e in range(first, end):
            column, value = out_indices[e], out_data[e]
            if marks[column] == 0:
                if value < cut:  # first the cut on the overlap alone
                    continue
                if kth > 0:  # then the entry's own bound, at factor 1 (no prior needed), then decayed
                    ceiling, pair = min(bound[row], bound[column]), norms[row] * norms[column]
                    if (ceiling + value) / pair < kth:
                        continue
                    factor = _factor(published, row, column, scale_seconds, floor)
                    if (ceiling + factor * value) / pair < kth:
                        continue
            out_indices[size], out_data[size] = column, value
            size += 1
        for e in range(first_k, last_k):
            marks[k_indices[e]] = 0
        for e in range(c_indptr[r], c_indptr[r + 1]):
            marks[c_indices[e]] = 0
        out_indptr[r + 1] = size
    return out_indptr, out_indices[:size], out_data[:size], left_out, True


_factor, _add_postings = _pair_factor, _tile_sums  # what _close calls: compiled once _compiled_pass has run


def load_compiled_pass(state: ModelState) -> None:
    """Load the compiled pass for the arrays of ``state`` now (numba's import, and the machine
    code from its cache or compiled), so that a server's first request does not wait for it."""
    if AVAILABLE and state.profiles is not None and state.profiles.n_rows:
        rows = np.zeros(1, np.int64)
        selected = state.profiles.select(rows)
        close_overlaps(state, rows, selected, state.profiles.links(rows, selected), None, 1, 1.0, 0.0, None, None)


_compiling = threading.Lock()


@functools.cache
def _compiled_pass():
    """The compiled :func:`_close` (its machine code from numba's cache after the first
    process), or ``None`` where numba does not import."""
    global _factor, _add_postings
    with _compiling:  # functools.cache lets two threads' first calls both get here
        from .._compiled import compiled, numba

        if numba is None:  # pragma: no cover - installed but broken
            return None
        _factor = compiled(_pair_factor, nogil=True, inline="always")  # before _close, which calls them
        _add_postings = compiled(_tile_sums, nogil=True, inline="always")
        return compiled(_close, nogil=True)


_scratch = threading.local()
_kept = KeptPerOwner(1)  # per profiles: their corrections' arrays in the pass's types


def _buffers(n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """This thread's scratch for an archive of ``n`` rows: a tile's overlap sums (all zeros
    between calls), marks (all zeros between calls), a tile's touched columns (one spare
    slot), the k best scores: about 0.5 MB, and 1 byte per row (1 MB at 1M articles), for
    each thread that searches."""
    width = min(n, TILE_COLUMNS)
    buffers = getattr(_scratch, "buffers", None)
    if buffers is None or len(buffers[0]) != width or len(buffers[1]) != n or len(buffers[3]) < k:
        buffers = _scratch.buffers = (np.zeros(width, np.float32), np.zeros(n, np.uint8),
                                      np.empty(width + 1, np.uint32), np.empty(max(k, 16), np.float32))
    return buffers


def close_overlaps(state: ModelState, rows: np.ndarray, selected: sp.csr_matrix,
                   known: tuple[np.ndarray, np.ndarray, np.ndarray], core: sp.csr_matrix | None, k: int,
                   duplicate_threshold: float, min_similarity: float, filtered_out: np.ndarray | None,
                   prior: TimePrior | None) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None:
    """The profile overlap entries of ``rows`` that the pruned search can use, and per row a
    bound on the score of those left out; ``None`` where the compiled pass does not apply (no
    numba, or profile entries that bring a sum back to 0, which no fit writes: the search then
    takes scipy's product).

    Parameters
    ----------
    state : ModelState
        A model with neighbour profiles.
    rows : ndarray of int64, shape (n,)
    selected : scipy.sparse.csr_matrix
        The rows' profiles (:meth:`~recommender._profiles.NeighbourProfiles.select`).
    known : tuple of ndarray
        CSR parts ``(indptr, indices, data)`` of the rows' links and their cosines
        (:meth:`~recommender._profiles.NeighbourProfiles.links`).
    core : scipy.sparse.csr_matrix or None
        The rows' core overlaps, if the score has a core term: their entries are always handed back.
    k : int
    duplicate_threshold, min_similarity : float
    filtered_out : ndarray of bool, shape (n_rows,), or None
        Rows a filter rules out.
    prior : TimePrior or None

    Returns
    -------
    (indptr, indices, data) : tuple of ndarray
        CSR parts of the entries handed back, by tile of columns within a row (not sorted).
    left_out : ndarray of float32, shape (n,)
        Per row, a bound on the Related score of every entry left out (``-inf`` where none was).
    """
    profiles, catalog = state.profiles, state.catalog
    kernel = _compiled_pass() if AVAILABLE else None
    if kernel is None:
        return None
    postings, delta = profiles.overlap_postings()
    if not postings.has_sorted_indices:  # the tiles walk each concept's postings in column order; a
        return None  # transpose (how profiles build them) is sorted: this is not a profiles' own
    scratch, marks, touched, best = _buffers(profiles.n_rows, k)
    no_rows = np.zeros(0, np.bool_)
    if core is None:
        core_indptr, core_indices, core_terms = np.zeros(len(rows) + 1), np.zeros(0), np.zeros(0)
    else:
        core_indptr, core_indices, core_terms = core.indptr, core.indices, profiles.core_weight * core.data
    start = selected.indptr[0]
    query = _typed(selected.indptr - start, selected.indices[start:], selected.data[start:])
    if delta is None:
        corrections, corrected, delta_parts = np.zeros(0, np.float32), np.zeros(1, np.uint32), _typed([], [], [])
    else:  # rows added since the base (a few thousand entries): a second scratch
        corrections, corrected = _corrections_scratch(profiles.n_rows)
        delta_parts = _kept.get(profiles, "corrections")
        if delta_parts is None:  # once per grown profiles: their corrections never change
            if not delta.has_sorted_indices:  # the tiles walk each concept's corrections in column order
                delta = delta.sorted_indices()
            delta_parts = _typed(delta.indptr, delta.indices, delta.data)
            _kept.put(profiles, "corrections", delta_parts)
    # a query's own arrays in one set of types: one machine code for single rows, blocks and the warm-up
    try:
        indptr, indices, data, left_out, complete = kernel(
            *query, postings.indptr, unsigned(postings.indices), postings.data, *delta_parts, *_typed(*known),
            *_typed(core_indptr, core_indices, core_terms), np.asarray(rows, np.int64), profiles.norms,
            profiles.bound, catalog.removed if catalog.any_removed else no_rows,
            no_rows if filtered_out is None else filtered_out, catalog.published,
            0.0 if prior is None else SECONDS_PER_DAY * prior.scale_days, 1.0 if prior is None else float(prior.floor),
            np.float32(min_similarity), np.float32(duplicate_threshold), int(k), scratch, marks, touched, best,
            corrections, corrected)
    except BaseException:  # stopped mid-row (out of memory): the scratch may hold sums; start afresh
        _scratch.buffers = _scratch.corrections = None
        raise
    return ((indptr, indices, data), left_out) if complete else None


def _corrections_scratch(n: int) -> tuple[np.ndarray, np.ndarray]:
    """This thread's scratch for a tile of the corrections' sums (all zeros between calls) and
    their touched columns: only where rows were added since the base."""
    width = min(n, TILE_COLUMNS)
    corrections = getattr(_scratch, "corrections", None)
    if corrections is None or len(corrections[0]) != width:
        corrections = _scratch.corrections = (np.zeros(width, np.float32), np.empty(width + 1, np.uint32))
    return corrections


def _typed(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR parts as int64, uint32 and float32 writable arrays (copies of a query's few entries)."""
    return (np.array(indptr, np.int64), np.array(indices, np.uint32), np.array(data, np.float32))
