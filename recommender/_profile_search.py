"""The fit-time neighbour search: every article's ``m`` most similar articles, exact.

The all-pairs step of a fit, from the first kernel that imports here (:func:`search_kernel`).
With the optional numba, an archive searched here is scored once per pair by a compiled
kernel that multiplies the frequent terms on BLAS (``"pairs"``, :mod:`._pairs_kernel`).
Otherwise rows are cut into blocks, and each block's top ``m`` comes from a compiled
dense-accumulator kernel (``"numba"``, :mod:`._topm_kernel`), ``sparse_dot_topn`` (a C++
top-n sparse product), or a blocked ``vectors[block] @ postings`` with a partial sort; blocks
can run here one by one, on threads, or as tasks of a joblib backend such as a Dask cluster
(``run_blocks``; there ``"pairs"`` gives way to ``"numba"``).

All are exact searches. The block kernels give the same cosines, bit for bit, and the same
neighbours, except that where two rows tie exactly for the last place the compiled kernels
and the scipy product keep the lower row (the rule of the profiles) and ``sparse_dot_topn``
keeps either (2 rows of 100k synthetic articles). ``"pairs"`` chooses neighbours by cosines that
add the frequent terms in another order, equal to theirs within float32 rounding, so a
neighbour whose cosine ties the last place within that rounding may differ (4 of 5 million
profile entries on 100k synthetic articles); the cosines it keeps are then a sparse
product's, bit for bit.

Pure computation: arrays in, :class:`~recommender._profiles.NeighbourProfiles` out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._profiles import NeighbourProfiles

__all__ = ["COMPILED_MIN_ROWS", "KERNELS", "neighbour_profiles", "profile_rows", "search_kernel"]

KERNELS = ("pairs", "numba", "sparse_dot_topn", "scipy")
"""The exact search's kernels, fastest first (see the module docstring for how they agree)."""

COMPILED_MIN_ROWS = 20_000
"""Smallest archive searched with the compiled kernel by default: compiling it takes a few
seconds in each process, about what it saves on 20k articles."""


def neighbour_profiles(
    vectors: sp.csr_matrix,
    postings: sp.csr_matrix,
    m: int,
    *,
    n_threads: int = 1,
    block_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    run_blocks: Callable[[Callable[..., Any], list[tuple]], Iterable[Any]] | None = None,
    core: int = 0,
    core_weight: float = 0.0,
    kernel: str | None = None,
) -> NeighbourProfiles:
    """Every row's ``m`` most similar other rows by cosine: the fit-time profiles.

    Uses the kernel :func:`search_kernel` names; all are exact.

    Parameters
    ----------
    vectors : scipy.sparse.csr_matrix of shape (n, n_terms)
        Unit-length rows.
    postings : scipy.sparse.csr_matrix of shape (n_terms, n)
        Transpose of ``vectors``.
    m : int
    n_threads : int, default=1
        Threads of each block's product.
    block_size : int or None
        Rows per product; default keeps a dense block under ~128 MB.
    progress : callable or None
        Called with the number of rows finished after each block.
    run_blocks : callable or None
        ``run_blocks(function, arguments)`` returns ``function(*args)`` for each tuple of
        ``arguments``, in order: a way to spread the blocks over processes or a cluster
        (see :meth:`recommender.Recommender.fit`). ``None`` runs them here, one by one.
    core, core_weight : int, float
        Passed to :class:`~recommender._profiles.NeighbourProfiles`.
    kernel : {"pairs", "numba", "sparse_dot_topn", "scipy"} or None
        The kernel (see :data:`KERNELS`); ``None``: :func:`search_kernel` of the archive's
        size, where the search runs.
    """
    n = vectors.shape[0]
    if run_blocks is None and (kernel or search_kernel(n)) == "pairs":
        from ._pairs_kernel import top_m_pairs

        counts, columns, cosines = top_m_pairs(vectors, postings, m, n_threads, progress=progress)
        rows = sp.csr_matrix((cosines, columns, np.concatenate(([0], np.cumsum(counts)))), shape=(n, n))
        rows.has_sorted_indices = True
        return NeighbourProfiles(rows, m, core=core, core_weight=core_weight)
    if block_size is None:
        block_size = int(max(16, min(4096, 32_000_000 // max(n, 1))))
    arguments = [(vectors, postings, start, min(n, start + block_size), m, n_threads, kernel)
                 for start in range(0, n, block_size)]
    results = (run_blocks or _one_by_one)(profile_rows, arguments)
    indptr, indices, data = [np.zeros(1, np.int64)], [], []
    for counts, columns, cosines in results:
        indices.append(columns)
        data.append(cosines)
        indptr.append(indptr[-1][-1] + np.cumsum(counts))
        if progress is not None:
            progress(len(counts))
    rows = sp.csr_matrix((np.concatenate(data) if data else np.zeros(0, np.float32),
                          np.concatenate(indices) if indices else np.zeros(0, np.int32),
                          np.concatenate(indptr)), shape=(n, n))
    rows.has_sorted_indices = True
    return NeighbourProfiles(rows, m, core=core, core_weight=core_weight)


def _one_by_one(function: Callable[..., Any], arguments: list[tuple]) -> Iterable[Any]:
    return (function(*args) for args in arguments)


def search_kernel(n_rows: int | None = None) -> str:
    """The fastest kernel that imports here: ``"pairs"`` (the compiled :mod:`._pairs_kernel`;
    for archives of ``n_rows`` from :data:`COMPILED_MIN_ROWS`), else ``"sparse_dot_topn"``, else
    ``"scipy"``. (``"numba"`` is the compiled kernel of blocks run elsewhere.)"""
    for name in KERNELS[:-1]:
        if name == "numba" or (name == "pairs" and n_rows is not None and n_rows < COMPILED_MIN_ROWS):
            continue
        try:
            __import__("numba" if name == "pairs" else name)
        except ImportError:
            continue
        return name
    return "scipy"


def profile_rows(vectors: sp.csr_matrix, postings: sp.csr_matrix, start: int, stop: int, m: int,
                 n_threads: int = 1, kernel: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profiles of rows ``start`` to ``stop - 1`` (see :func:`neighbour_profiles`).

    Returns
    -------
    counts : ndarray of int64, shape (stop - start,)
        Profile length of each row.
    columns : ndarray of int32
        Each row's neighbours in column order, one row after the other.
    cosines : ndarray of float32
        Their cosines.
    """
    kernel = kernel or search_kernel(vectors.shape[0])
    if kernel == "pairs":
        kernel = "numba"  # the per-row compiled kernel: a block is not every pair
    own = np.arange(start, stop)
    if kernel == "numba":
        from ._topm_kernel import top_m_rows

        rows_of, cols, vals = top_m_rows(vectors, postings, start, stop, m, n_threads)
    elif kernel == "sparse_dot_topn":
        from sparse_dot_topn import sp_matmul_topn

        block = sp.csr_matrix(sp_matmul_topn(vectors[start:stop], postings, top_n=m + 1, n_threads=n_threads))
        entry_row = np.repeat(np.arange(stop - start), np.diff(block.indptr))
        keep = (block.indices != own[entry_row]) & (block.data > 0)
        rows_of, cols, vals = entry_row[keep], block.indices[keep], block.data[keep]
    else:
        dense = (vectors[start:stop] @ postings).toarray()
        dense[np.arange(stop - start), own] = 0
        rows_of, cols = np.nonzero(dense)
        vals = dense[rows_of, cols]
    # best m per row (ties by column), vectorised: sort by row, then score down, then column
    order = np.lexsort((cols, -vals, rows_of))
    rows_of, cols, vals = rows_of[order], cols[order], vals[order]
    counts = np.bincount(rows_of, minlength=stop - start)
    rank = np.arange(len(rows_of)) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = rank < m
    rows_of, cols, vals = rows_of[keep], cols[keep], vals[keep]
    counts = np.bincount(rows_of, minlength=stop - start)
    order = np.lexsort((cols, rows_of))  # sorted columns within each row
    return counts.astype(np.int64), cols[order].astype(np.int32), vals[order].astype(np.float32)
