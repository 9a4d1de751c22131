"""A compiled exact top-``m`` search that scores each pair once (optional: needs numba).

How it works
------------
The fit-time search (every row's ``m`` highest cosines with other rows), with three changes
from the per-row kernel (:mod:`._topm_kernel`):

* **Each pair once.** Row ``i`` is scored against columns ``j > i`` only, and the cosine is
  offered to both heaps, ``i``'s and ``j``'s: half the products.
* **Frequent terms on BLAS.** News text has a few hundred terms in more than a tenth of the
  articles, and they carry most of ``sum(df ** 2)``, the work of a sparse product (76 % at
  100k synthetic articles). Their weights form a dense ``n x K`` matrix, multiplied block by
  block with single-precision GEMMs, which do a multiply-add tens of times faster than a
  scattered sparse addition does here. The other, rare terms are added from their postings.
* **Term by term.** Rows go ``BLOCK_ROWS`` at a time, columns a tile at a time (the GEMM's
  output). The block is transposed, so each rare term's postings in the tile are read once and
  added to every block row that holds the term, four rows per pass. The rare terms that carry
  nearly all those additions go ``SPAN`` columns at a time, so the rows they land in stay in
  the core's cache; the rarest, a few postings per tile, over the whole tile at once. Each
  term's postings lie elsewhere in memory: while one term is added, the next postings of the
  term ``PREFETCH_AHEAD`` places on are hinted into the cache.

Each row's heap is then offered the tile's cosines beyond it, ``SCAN_CHUNK`` at a time: a
branch-free pass finds the chunks with any cosine that beats a heap's weakest entry, which
few do once heaps are full. Blocks run on ``n_threads`` threads, each with its own heaps for
all ``n`` rows (``n * m`` cosines and columns) and one BLAS thread; the heaps are merged at
the end, since the best ``m`` of a union is the best ``m`` of the parts' best ``m``.

Exact: every pair is scored. A cosine is the GEMM's sum over the frequent terms plus the
rare terms (the common ones first), so it equals a sparse product's within float32 rounding (one
cosine serves both rows of a pair): a neighbour that ties the ``m``-th place within that
rounding may differ from a sparse product's choice. At an exact tie the lower column is
kept. The kept pairs' cosines are then recomputed from the two rows' sorted terms as a sparse
product sums them, bit for bit (``_exact``), since the Related search reads them beside the
product's own. Results do not depend on the threads.

Pure computation: arrays in, arrays out.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ._compiled import compiled, numba, prefetch
from ._sparse_kernels import unsigned

__all__ = ["DENSE_SHARE", "dense_terms", "top_m_pairs"]

DENSE_SHARE = 0.12
"""Terms in more than this share of the rows are multiplied dense (BLAS); the rest from their
postings. A term in a share ``p`` of ``n`` rows costs ``(p * n) ** 2`` sparse additions, or
``n ** 2`` dense multiply-adds. Measured at 100k: shares 0.07, 0.12, 0.2, 0.3 gave 60, 43-53,
51 and 50 s (noisy; the optimum is flat)."""

BLOCK_ROWS = 256
"""Rows of one block: the GEMM's height, and the rows that share a pass over a term's postings."""

SPAN = 1024
"""Columns a common rare term's additions cover at a time: the block's rows over them (1 MB)
stay in the core's cache, where a whole tile's (32 MB) would not."""

COMMON_SHARE = 0.01
"""Rare terms in at least this share of the rows go :data:`SPAN` columns at a time; the rest,
with a few postings per tile, over the whole tile (a visit to a term's postings costs a cache
miss; theirs are few)."""

SCAN_CHUNK = 64
"""Cosines checked at once, branch-free, before any is offered to a heap."""

TILE_ELEMENTS = 8_388_608
"""Cosines of one tile (block rows x tile columns): 32 MB of float32 per thread. Wide tiles
make fewer visits to each rare term's postings (each visit a cache miss)."""

PREFETCH_AHEAD = 6
"""Terms ahead whose next postings are hinted into the cache while a term is added: each
term's postings lie elsewhere in memory, and waiting for them cost more than the additions."""

TILE_PADDING = 16
"""Unused floats after each tile row: rows a power of two of bytes apart would share the same
cache sets, and the block's rows over one span would evict each other."""

SLICE_ROWS = 65_536
"""Rows handled at once where the search builds its dense block and sorts its heaps: the
temporaries stay at tens of MB beside arrays of every row."""


def _push(value, column, heap_values, heap_columns, roots, row, m):  # pragma: no cover - compiled
    """Replace the heap root (the worst kept: lowest cosine, then highest column) and sift down;
    ``roots[row]`` mirrors the new root's cosine (a contiguous array for the scan)."""
    values, columns = heap_values[row], heap_columns[row]
    i = 0
    while True:
        left, right, low = 2 * i + 1, 2 * i + 2, -1
        low_value, low_column = value, column
        if left < m and (values[left] < low_value or (values[left] == low_value and columns[left] > low_column)):
            low, low_value, low_column = left, values[left], columns[left]
        if right < m and (values[right] < low_value or (values[right] == low_value and columns[right] > low_column)):
            low = right
        if low < 0:
            break
        values[i], columns[i] = values[low], columns[low]
        i = low
    values[i], columns[i] = value, column
    roots[row] = values[0]


def _first_at_or_after(columns, low, high, column):  # pragma: no cover - compiled
    """The first position in ``low..high-1`` of sorted ``columns`` holding ``column`` or more."""
    while low < high:
        middle = (low + high) // 2
        if columns[middle] < column:
            low = middle + 1
        else:
            high = middle
    return low


def _by_term(block_start, block_stop, indptr, indices, data, dense_term, p_indptr, p_indices,
             common_postings):  # pragma: no cover - compiled
    """A block's rows transposed: their rare terms (ascending), each with the block rows that
    hold it and their weights, and a cursor at the term's first posting from the block on; then
    which of them (positions in that list) have at least ``common_postings`` postings, and which not."""
    low, high = indptr[block_start], indptr[block_stop]
    keep = np.zeros(high - low, np.bool_)
    rows = np.empty(high - low, np.int64)
    for row in range(block_start, block_stop):
        for k in range(indptr[row], indptr[row + 1]):
            keep[k - low] = not dense_term[indices[k]]
            rows[k - low] = row - block_start
    kept = np.flatnonzero(keep)
    terms = indices[low:high][kept]
    order = np.argsort(terms, kind="mergesort")  # stable: rows ascending within a term
    terms, rows, weights = terms[order], rows[kept][order], data[low:high][kept][order]
    starts = np.flatnonzero(np.concatenate((np.ones(1, np.bool_), terms[1:] != terms[:-1]))) if len(terms) \
        else np.zeros(0, np.int64)
    unique = terms[starts]
    term_ptr = np.append(starts, len(terms))
    cursors = np.empty(len(unique), np.int64)
    common = np.zeros(len(unique), np.bool_)
    for u in range(len(unique)):  # the first posting at or after the block
        cursors[u] = _first_at_or_after(p_indices, p_indptr[unique[u]], p_indptr[unique[u] + 1], block_start)
        common[u] = p_indptr[unique[u] + 1] - p_indptr[unique[u]] >= common_postings
    return unique, term_ptr, rows, weights, cursors, np.flatnonzero(common), np.flatnonzero(~common)


def _prefetch_postings(cursor, p_indices, p_data):  # pragma: no cover - compiled
    """Hint the postings at ``cursor`` into the cache."""
    prefetch(p_indices, cursor)
    prefetch(p_data, cursor)


def _add_term(tile, u, stop, shift, terms, term_ptr, term_rows, term_weights, cursors, p_indptr, p_indices,
              p_data):  # pragma: no cover - compiled
    """Add rare term ``u``'s postings before column ``stop`` to the tile rows that hold it, and
    move its cursor past them. Its postings are read once for all those rows, four rows a pass."""
    start, high = cursors[u], p_indptr[terms[u] + 1]
    low, step = start, 8  # the first posting at or after the stop: galloping from the cursor,
    while low + step < high and p_indices[low + step - 1] < stop:  # the postings before it are all < stop
        low += step
        step *= 2
    low = _first_at_or_after(p_indices, low, min(low + step, high), stop)  # then a binary search
    cursors[u] = low
    e, end = term_ptr[u], term_ptr[u + 1]
    while e + 4 <= end:
        a, b, c, d = tile[term_rows[e]], tile[term_rows[e + 1]], tile[term_rows[e + 2]], tile[term_rows[e + 3]]
        wa, wb, wc, wd = term_weights[e], term_weights[e + 1], term_weights[e + 2], term_weights[e + 3]
        for q in range(start, low):
            j, x = np.uint64(p_indices[q]) - shift, p_data[q]
            a[j] += wa * x
            b[j] += wb * x
            c[j] += wc * x
            d[j] += wd * x
        e += 4
    while e < end:
        cosines, weight = tile[term_rows[e]], term_weights[e]
        for q in range(start, low):
            cosines[np.uint64(p_indices[q]) - shift] += weight * p_data[q]
        e += 1


def _tile(tile, block_start, block_stop, column_start, column_stop, terms, term_ptr, term_rows, term_weights,
          cursors, common, uncommon, span, p_indptr, p_indices, p_data, heap_values, heap_columns, roots,
          m):  # pragma: no cover - compiled
    """Add the rare terms to a tile of the block's rows, then offer its cosines to the heaps.

    Term by term: a term's postings in the tile are read once for all the rows that hold it.
    The ``common`` terms, which carry nearly all the additions, go ``span`` columns at a time
    (the block's rows over those columns stay in the core's cache as the additions land at
    scattered columns); the others, a few postings per tile each, over the whole tile at once.
    """
    shift = np.uint64(column_start)  # unsigned offsets: no negative-index check in the loop
    for span_start in range(column_start, column_stop, span):
        span_stop = min(span_start + span, column_stop)
        for i in range(len(common)):
            if i + PREFETCH_AHEAD < len(common):
                _prefetch_postings(cursors[common[i + PREFETCH_AHEAD]], p_indices, p_data)
            _add_term(tile, common[i], span_stop, shift, terms, term_ptr, term_rows, term_weights, cursors,
                      p_indptr, p_indices, p_data)
    for i in range(len(uncommon)):
        if i + PREFETCH_AHEAD < len(uncommon):
            _prefetch_postings(cursors[uncommon[i + PREFETCH_AHEAD]], p_indices, p_data)
        _add_term(tile, uncommon[i], column_stop, shift, terms, term_ptr, term_rows, term_weights, cursors, p_indptr,
                  p_indices, p_data)
    for row in range(block_start, block_stop):
        cosines = tile[row - block_start]
        own_value, own_column = heap_values[row, 0], heap_columns[row, 0]
        begin = max(row + 1, column_start)
        for chunk in range(begin, column_stop, SCAN_CHUNK):
            end = min(chunk + SCAN_CHUNK, column_stop)
            best, margin = np.float32(0), np.float32(-1)
            for j in range(chunk, end):  # branch-free: compiles to vector instructions
                value = cosines[j - column_start]
                best = max(best, value)
                margin = max(margin, value - roots[j])
            if best < own_value and margin < 0:
                continue  # no cosine here enters a heap
            for j in range(chunk, end):
                value = cosines[j - column_start]
                if value <= 0:
                    continue
                if value > own_value or (value == own_value and j < own_column):
                    _push(value, j, heap_values, heap_columns, roots, row, m)
                    own_value, own_column = heap_values[row, 0], heap_columns[row, 0]
                if value > roots[j] or (value == roots[j] and row < heap_columns[j, 0]):
                    _push(value, row, heap_values, heap_columns, roots, j, m)


def _exact(indptr, indices, data, offsets, columns, first, last, weights, out):  # pragma: no cover - compiled
    """Kept pairs of rows ``first..last-1``: the cosine as a sparse product sums it, bit for bit
    (float32 products added one after the other in term order). The row's weights are spread
    over ``weights`` (zeros elsewhere): a term the rows do not share adds an exact zero."""
    for row in range(first, last):
        for k in range(indptr[row], indptr[row + 1]):
            weights[indices[k]] = data[k]
        for e in range(offsets[row], offsets[row + 1]):
            other, total = columns[e], np.float32(0)
            for k in range(indptr[other], indptr[other + 1]):
                total += weights[indices[k]] * data[k]
            out[e] = total
        for k in range(indptr[row], indptr[row + 1]):
            weights[indices[k]] = 0


def _merge(heap_values, heap_columns, m, out_values, out_columns, out_roots):  # pragma: no cover - compiled
    """Push every other thread's heap entries into the first thread's heaps."""
    n = out_values.shape[0]
    for other in range(1, heap_values.shape[0]):
        for row in range(n):
            for i in range(m):
                value, column = heap_values[other, row, i], heap_columns[other, row, i]
                if value > 0 and (value > out_values[row, 0]
                                  or (value == out_values[row, 0] and column < out_columns[row, 0])):
                    _push(value, column, out_values, out_columns, out_roots, row, m)


if numba is not None:  # without it the search is not chosen (see _profile_search.search_kernel)
    _push = compiled(_push, nogil=True, inline="always")
    _first_at_or_after = compiled(_first_at_or_after, nogil=True)
    _prefetch_postings = compiled(_prefetch_postings, nogil=True, inline="always")
    _add_term = compiled(_add_term, nogil=True, inline="always")
    _tile = compiled(_tile, nogil=True)
    _by_term = compiled(_by_term, nogil=True)
    _merge = compiled(_merge, nogil=True)
    _exact = compiled(_exact, nogil=True)


def _sorted_columns(values: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each heap's count of positive entries and their columns in order, one row after the
    other (int64 of shape (n,), int32), sorted :data:`SLICE_ROWS` heaps at a time so the
    sort's temporaries stay small beside the heaps."""
    n, m = values.shape
    found = values > 0
    counts = found.sum(axis=1).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    kept = np.empty(int(offsets[-1]), np.int32)
    for start in range(0, n, SLICE_ROWS):
        stop = min(n, start + SLICE_ROWS)
        block = columns[start:stop]
        order = np.argsort(np.where(found[start:stop], block, n), axis=1)
        kept[offsets[start]:offsets[stop]] = np.take_along_axis(block, order, axis=1)[
            np.arange(m) < counts[start:stop, None]]
    return counts, kept


def _dense_columns(vectors: sp.csr_matrix, columns: np.ndarray) -> np.ndarray:
    """``vectors[:, columns]`` as a dense C-ordered float32 array, :data:`SLICE_ROWS` rows at a
    time (no sparse copy of every frequent entry at once)."""
    dense = np.empty((vectors.shape[0], len(columns)), np.float32)
    for start in range(0, vectors.shape[0], SLICE_ROWS):
        dense[start:start + SLICE_ROWS] = vectors[start:start + SLICE_ROWS, columns].toarray()
    return dense


def dense_terms(postings: sp.csr_matrix, share: float = DENSE_SHARE) -> np.ndarray:
    """Terms (rows of ``postings``) in more than ``share`` of the articles."""
    n = postings.shape[1]
    return np.flatnonzero(np.diff(postings.indptr) > share * n)


def top_m_pairs(vectors: sp.csr_matrix, postings: sp.csr_matrix, m: int, n_threads: int = 1, *,
                dense_share: float = DENSE_SHARE,
                progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row's ``m`` highest positive cosines with other rows (see the module docstring).

    Parameters
    ----------
    vectors : scipy.sparse.csr_matrix of shape (n, n_terms)
    postings : scipy.sparse.csr_matrix of shape (n_terms, n)
        Transpose of ``vectors``, columns sorted within each term.
    m : int
    n_threads : int, default=1
        Threads of the compiled part and of BLAS.
    dense_share : float, default=DENSE_SHARE
        Document share above which a term is multiplied dense.
    progress : callable or None
        Called after each block with the work it did, in rows: ``n`` in all. Row ``i`` is
        scored against the ``n - 1 - i`` rows after it, so early blocks count for more rows
        than they hold and a progress bar's estimate of the time left holds.

    Returns
    -------
    counts : ndarray of int64, shape (n,)
    columns : ndarray of int32
        Each row's neighbours in column order, one row after the other.
    cosines : ndarray of float32
    """
    # a scikit-learn dependency, imported at fit time only
    from threadpoolctl import threadpool_limits

    n = vectors.shape[0]
    n_threads = max(1, min(int(n_threads), n))
    if not postings.has_sorted_indices:  # the cursors walk each term's columns in order
        postings = postings.sorted_indices()
    if not vectors.has_sorted_indices:  # terms in order: sums in a sparse product's order
        vectors = vectors.sorted_indices()
    frequent = dense_terms(postings, dense_share)
    dense_term = np.zeros(vectors.shape[1], np.bool_)
    dense_term[frequent] = True
    dense = _dense_columns(vectors, frequent)
    common_postings = max(1, int(np.ceil(COMMON_SHARE * n)))
    # column indices as unsigned: the compiled loops then skip the negative-index check
    indptr, indices, data = (np.asarray(vectors.indptr), unsigned(vectors.indices), np.asarray(vectors.data))
    p_indptr, p_indices, p_data = (np.asarray(postings.indptr), unsigned(postings.indices),
                                   np.asarray(postings.data))
    heap_values = np.zeros((n_threads, n, m), np.float32)
    heap_columns = np.full((n_threads, n, m), n, np.int32)
    roots = np.zeros((n_threads, n), np.float32)
    block = int(max(1, min(BLOCK_ROWS, n)))
    width = int(max(1, min(TILE_ELEMENTS // block, n)))
    buffers = np.empty((n_threads, block, width + TILE_PADDING), np.float32)
    free = queue.SimpleQueue()  # each thread's heaps and tile buffer
    for slot in range(n_threads):
        free.put(slot)

    def search(block_start: int) -> int:
        slot = free.get()
        try:
            block_stop = min(n, block_start + block)
            rows = block_stop - block_start
            by_term = _by_term(block_start, block_stop, indptr, indices, data, dense_term, p_indptr, p_indices,
                               common_postings)
            for column_start in range(block_start, n, width):
                column_stop = min(n, column_start + width)
                tile = buffers[slot, :rows, :column_stop - column_start]
                np.matmul(dense[block_start:block_stop], dense[column_start:column_stop].T, out=tile)
                _tile(tile, block_start, block_stop, column_start, column_stop, *by_term, SPAN, p_indptr, p_indices,
                      p_data, heap_values[slot], heap_columns[slot], roots[slot], m)
        finally:
            free.put(slot)
        return rows

    # one BLAS thread per search thread: BLAS's own threads would spin between the small GEMMs
    with ThreadPoolExecutor(n_threads) as pool, threadpool_limits(1, user_api="blas"):
        searched = reported = 0
        for rows in pool.map(search, range(0, n, block)):
            searched += rows
            done = n * (searched * n - searched * (searched - 1) // 2) // (n * (n + 1) // 2)  # share of pairs
            if progress is not None and done > reported:
                progress(done - reported)
                reported = done
        dense = buffers = None  # the search's working memory, freed before the merged heaps are sorted
        _merge(heap_values, heap_columns, m, heap_values[0], heap_columns[0], roots[0])
        counts, columns = _sorted_columns(heap_values[0], heap_columns[0])
        heap_values = heap_columns = roots = None  # freed before the cosines are recomputed
        # the kept pairs' cosines as a sparse product sums them, bit for bit: the Related search
        # reads profile cosines beside the product's own (see _related.search.kernels_agree)
        offsets = np.concatenate(([0], np.cumsum(counts)))
        values = np.empty(len(columns), np.float32)
        bounds = np.linspace(0, n, n_threads + 1).astype(np.int64)
        list(pool.map(lambda first, last: _exact(indptr, indices, data, offsets, columns, first, last,
                                                 np.zeros(vectors.shape[1], np.float32), values),
                      bounds[:-1], bounds[1:]))
    if not np.all(values > 0):  # a cosine within rounding of 0: not a neighbour
        positive = values > 0
        counts = np.bincount(np.repeat(np.arange(n), counts)[positive], minlength=n).astype(np.int64)
        columns, values = columns[positive], values[positive]
    return counts, columns, values
