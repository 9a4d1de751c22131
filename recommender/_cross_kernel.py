"""Cosines of a request's rows with a few query rows, and of scattered pairs of rows, in
compiled passes (optional: needs numba).

How it works
------------
A Recommendation pool (:mod:`recommender._candidates`) needs the cosine of each of a few
hundred candidate rows with each query row (the article and the stories read: four with a
3-item history). Up to four query rows at a time are gathered into a small
table, one row of four weights per term they use, and this thread's slot table (one
``uint16`` per term) points each of those terms at its row, every other term at row 0 (all
zeros). One pass over each candidate's non-zeros then reads the slot of its term and the four
weights there, and keeps four running sums. The sums add their products in float32, one
after the other in term order, as scipy's sparse product does (the terms a query lacks add
exact zeros), so each cosine has the product's bits.

Per candidate non-zero that is one read of a 2-byte slot (the slot table, 248 kB at 124k
terms, stays in cache between the other lists' work) and of a 16-byte row of a table that
fits in the first-level cache, instead of one pass per query row: about half the time of
:meth:`~recommender._index.CosineIndex.cross_scores`'s pass per query at 100k articles, in a
page. The slot table is all zeros between calls.

The exact pairs a Related search scores (:meth:`~recommender._index.CosineIndex.pair_cosines`,
the candidates a bound cannot settle) take one lane of the same pass: each run of pairs with
the same left row spreads that row into the slots, and each right row's non-zeros are summed
against it, in the same order.

Pure computation apart from each thread's scratch.
"""

from __future__ import annotations

import functools
import importlib.util
import threading

import numpy as np
import scipy.sparse as sp

from ._sparse_kernels import unsigned

__all__ = ["AVAILABLE", "MAX_SLOTS", "cross_cosines", "pair_cosines"]

AVAILABLE = importlib.util.find_spec("numba") is not None
"""Whether the compiled pass can run here (numba installed); numba is imported on first use."""


def _cross(indptr, indices, data, rows, q_indptr, q_indices, q_data, q_rows, slots, max_slots, out):  # pragma: no cover - compiled
    n_queries, most = len(q_rows), 0
    for first in range(0, n_queries, 4):  # the weight table's size; too many slots and nothing is written
        size = 0
        for q in range(first, min(first + 4, n_queries)):
            size += q_indptr[q_rows[q] + 1] - q_indptr[q_rows[q]]
        most = max(most, size)
    if most >= max_slots:
        return False
    weights = np.zeros((most + 1, 4), np.float32)  # row 0 (every other term's) stays zero
    for first in range(0, n_queries, 4):
        width = min(4, n_queries - first)
        used = 0
        for q in range(width):
            for e in range(q_indptr[q_rows[first + q]], q_indptr[q_rows[first + q] + 1]):
                slot = slots[q_indices[e]]
                if slot == 0:
                    used += 1
                    slot = slots[q_indices[e]] = used
                    weights[slot, :] = 0
                weights[slot, q] = q_data[e]
        for i in range(len(rows)):
            row = rows[i]
            sum0 = sum1 = sum2 = sum3 = np.float32(0)
            for e in range(indptr[row], indptr[row + 1]):
                value, lane = data[e], weights[slots[indices[e]]]
                sum0 += value * lane[0]
                sum1 += value * lane[1]
                sum2 += value * lane[2]
                sum3 += value * lane[3]
            out[i, first] = sum0
            if width > 1:
                out[i, first + 1] = sum1
            if width > 2:
                out[i, first + 2] = sum2
            if width > 3:
                out[i, first + 3] = sum3
        for q in range(width):
            for e in range(q_indptr[q_rows[first + q]], q_indptr[q_rows[first + q] + 1]):
                slots[q_indices[e]] = 0
    return True


def _pairs(indptr, indices, data, left, right, order, slots, max_slots, out):  # pragma: no cover - compiled
    longest = 0
    for p in range(len(order)):
        longest = max(longest, indptr[left[order[p]] + 1] - indptr[left[order[p]]])
    if longest >= max_slots:
        return False
    weights = np.zeros(longest + 1, np.float32)  # slot 0 (every other term's) stays zero
    p = 0
    while p < len(order):
        row = left[order[p]]
        start, end = indptr[row], indptr[row + 1]
        for e in range(start, end):
            slots[indices[e]] = e - start + 1
            weights[e - start + 1] = data[e]
        while p < len(order) and left[order[p]] == row:
            other = right[order[p]]
            total = np.float32(0)
            for e in range(indptr[other], indptr[other + 1]):
                total += data[e] * weights[slots[indices[e]]]
            out[order[p]] = total
            p += 1
        for e in range(start, end):
            slots[indices[e]] = 0
    return True


_compiling = threading.Lock()


@functools.cache
def _compiled():
    """The compiled :func:`_cross` and :func:`_pairs` (their machine code from numba's cache
    after the first process), or ``None`` where numba does not import."""
    with _compiling:
        from ._compiled import compiled, numba

        if numba is None:  # pragma: no cover - installed but broken
            return None
        return compiled(_cross, nogil=True, boundscheck=False), compiled(_pairs, nogil=True, boundscheck=False)


MAX_SLOTS = 65535
"""Most non-zeros the query rows of one pass may have together, plus one (the slots are ``uint16``)."""

_scratch = threading.local()


def _slots(n_terms: int) -> np.ndarray:
    """This thread's slot table: ``uint16`` of at least ``n_terms`` entries, all zeros between calls."""
    slots = getattr(_scratch, "slots", None)
    if slots is None or len(slots) < n_terms:
        slots = _scratch.slots = np.zeros(n_terms, np.uint16)
    return slots


def cross_cosines(vectors: sp.csr_matrix, rows: np.ndarray, queries: sp.csr_matrix, query_rows: np.ndarray,
                  out: np.ndarray) -> bool:
    """Write the cosine of each of ``rows`` of ``vectors`` with each of ``query_rows`` of
    ``queries`` into ``out``.

    Parameters
    ----------
    vectors, queries : scipy.sparse.csr_matrix of shape (n, n_terms), (m, n_terms)
        Unit-length float32 rows with sorted indices (index segments, or a block of rows; the
        same matrix when the query rows are in the candidates' segment).
    rows, query_rows : ndarray of int64
        Rows of ``vectors`` and of ``queries``.
    out : ndarray of float32, shape (len(rows), len(query_rows))
        C-contiguous; every entry is written.

    Returns
    -------
    bool
        ``False`` (``out`` untouched) where the pass cannot run: numba missing, arrays of
        other types than an index holds, or four query rows with :data:`MAX_SLOTS` non-zeros.
    """
    if queries.data.dtype != np.float32:
        return False
    return _run(0, vectors, out, np.asarray(rows, np.int64), queries.indptr, unsigned(queries.indices), queries.data,
                np.asarray(query_rows, np.int64))


def pair_cosines(vectors: sp.csr_matrix, left: np.ndarray, right: np.ndarray, order: np.ndarray,
                 out: np.ndarray) -> bool:
    """Write the cosine of each pair of rows ``(left[i], right[i])`` of ``vectors`` into ``out[i]``.

    Parameters
    ----------
    vectors : scipy.sparse.csr_matrix of shape (n, n_terms)
        Unit-length float32 rows with sorted indices (an index segment).
    left, right : ndarray of int64
        Rows of ``vectors``.
    order : ndarray of int64
        The pairs in the order they are taken: pairs of the same left row next to each other
        (each run spreads its left row once).
    out : ndarray of float32, shape (len(left),)

    Returns
    -------
    bool
        ``False`` (``out`` untouched) where the pass cannot run: numba missing, arrays of
        other types than an index holds, or a left row with :data:`MAX_SLOTS` non-zeros.
    """
    return _run(1, vectors, out, left, right, order)


def _run(kernel: int, vectors: sp.csr_matrix, out: np.ndarray, *arguments: np.ndarray) -> bool:
    """Call compiled kernel ``kernel`` (0: :func:`_cross`, 1: :func:`_pairs`) on ``vectors``,
    ``arguments``, this thread's slot table and ``out``; ``False`` where it cannot run."""
    kernels = _compiled() if AVAILABLE else None
    if kernels is None or vectors.data.dtype != np.float32:
        return False
    slots = _slots(vectors.shape[1])
    try:
        return kernels[kernel](vectors.indptr, unsigned(vectors.indices), vectors.data, *arguments, slots, MAX_SLOTS,
                               out)
    except BaseException:  # stopped midway: the slot table may hold slots; start afresh
        _scratch.slots = None
        raise
