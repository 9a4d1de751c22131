"""A compiled exact top-``m`` kernel for the fit-time neighbour search (optional: needs numba).

How it works
------------
For one row at a time, a dense accumulator of ``n`` floats receives every product of the row's
terms with their postings (``acc[j] += w_row,t * w_j,t``), in the same order as a sparse
product; a scan of the accumulator then keeps the ``m`` highest positive cosines in a min-heap
(ties by lower column, the article itself left out) and clears it. Rows of news text share a
term with nearly every other row, so a dense accumulator does less work per product than a
sparse one, which tracks the columns it touched: measured to use ~3x less CPU than
``sparse_dot_topn`` on one thread (``benchmarks/bench_profile_search.py``). The cosines are
those of a sparse product bit for bit (same order of additions); at an exact tie for the
``m``-th place the lower column is kept.

Rows are split into ``n_threads`` contiguous ranges run on Python threads (the compiled
function releases the GIL). Without numba, :data:`AVAILABLE` is ``False`` and the search uses
``sparse_dot_topn``.

Pure computation: arrays in, arrays out.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ._compiled import compiled, numba
from ._sparse_kernels import unsigned

__all__ = ["AVAILABLE", "top_m_rows"]

AVAILABLE = numba is not None
"""Whether the compiled kernel can run here (numba importable)."""


def _sift_down(values, columns, size, i):  # pragma: no cover - compiled
    while True:
        left, right, low = 2 * i + 1, 2 * i + 2, i
        if left < size and (values[left] < values[low] or (values[left] == values[low] and columns[left] > columns[low])):
            low = left
        if right < size and (values[right] < values[low]
                             or (values[right] == values[low] and columns[right] > columns[low])):
            low = right
        if low == i:
            return
        values[i], values[low] = values[low], values[i]
        columns[i], columns[low] = columns[low], columns[i]
        i = low


def _top_m(indptr, indices, data, p_indptr, p_indices, p_data, n, start, stop, m,
           out_columns, out_values):  # pragma: no cover - compiled
    accumulator = np.zeros(n, np.float32)
    for row in range(start, stop):
        for k in range(indptr[row], indptr[row + 1]):
            term, weight = indices[k], data[k]
            for q in range(p_indptr[term], p_indptr[term + 1]):
                accumulator[p_indices[q]] += weight * p_data[q]
        accumulator[row] = 0
        values, columns = out_values[row - start], out_columns[row - start]
        size = 0
        for j in range(n):
            value = accumulator[j]
            if value > 0:
                if size < m:
                    values[size], columns[size] = value, j
                    size += 1
                    if size == m:
                        for i in range(m // 2 - 1, -1, -1):
                            _sift_down(values, columns, m, i)
                elif value > values[0]:
                    values[0], columns[0] = value, j
                    _sift_down(values, columns, m, 0)
            accumulator[j] = 0
        for i in range(size, m):
            values[i], columns[i] = -1.0, -1


if AVAILABLE:
    _sift_down = compiled(_sift_down, nogil=True)
    _top_m = compiled(_top_m, nogil=True)


def top_m_rows(vectors: sp.csr_matrix, postings: sp.csr_matrix, start: int, stop: int, m: int,
               n_threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each of rows ``start`` to ``stop - 1``: its ``m`` highest positive cosines with other rows.

    Returns
    -------
    rows_of : ndarray of int64
        Block row (``row - start``) of each entry.
    columns : ndarray of int32
    cosines : ndarray of float32
        Unordered within a row; at most ``m`` per row, ties at the ``m``-th by lower column.
    """
    n = vectors.shape[0]
    # column indices as unsigned: the compiled loops then skip the negative-index check (~25 % faster)
    arrays = (np.asarray(vectors.indptr), unsigned(vectors.indices), np.asarray(vectors.data),
              np.asarray(postings.indptr), unsigned(postings.indices), np.asarray(postings.data))
    columns = np.empty((stop - start, m), np.int32)
    values = np.empty((stop - start, m), np.float32)
    bounds = np.linspace(start, stop, max(1, min(n_threads, stop - start)) + 1).astype(np.int64)

    def run(low: int, high: int) -> None:
        _top_m(*arrays, n, low, high, m, columns[low - start:high - start], values[low - start:high - start])

    if len(bounds) == 2:
        run(bounds[0], bounds[1])
    else:
        with ThreadPoolExecutor(len(bounds) - 1) as pool:
            list(pool.map(run, bounds[:-1], bounds[1:]))
    found = columns >= 0
    rows_of = np.repeat(np.arange(stop - start), m)[found.ravel()]
    return rows_of, columns[found], values[found]
