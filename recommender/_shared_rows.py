"""Cosines of a request's query rows with rows that every request at a moment shares.

How it works
------------
Every Recommendation pool holds the site's newest and most popular stories: the same few
hundred rows for every page served at one moment (:mod:`recommender._candidates`). A pass of
each query row over their non-zeros (:meth:`~recommender._index.CosineIndex.cross_scores`)
costs about one nanosecond per non-zero and query row. Their *postings* (the rows' vectors
transposed: each term lists the shared rows that hold it) are built once per index and row
set, on the set's second request, and kept (:func:`shared_rows`); a request's query rows
then meet them in one sparse product that touches only the query rows' own terms. Each
cosine adds its products in float32 in term order, as
:meth:`~recommender._index.CosineIndex.cross_scores` adds them, so the two give the same bits.

Pure computation apart from the kept postings (per index, which never changes).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._index import CosineIndex
from ._kept import KeptPerOwner
from ._sparse_kernels import rows_times

__all__ = ["SharedRows", "pool_cosines", "shared_rows"]


class SharedRows:
    """The postings of a set of indexed rows, for their cosines with any query rows.

    Parameters
    ----------
    index : CosineIndex
        The index holding the rows.
    rows : ndarray of int, shape (n,)
        The rows, in the order :meth:`cosines` returns them.
    """

    def __init__(self, index: CosineIndex, rows: np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        indptr, indices, data = index.row_arrays(self.rows)
        block = sp.csr_matrix((data, indices, indptr), shape=(len(self.rows), index.n_terms))
        self._postings = sp.csr_matrix(block.T)  # transposed CSC is CSR: sorted rows per term

    def cosines(self, index: CosineIndex, queries: np.ndarray) -> np.ndarray:
        """Cosine of each of :attr:`rows` with each of ``queries`` (indexed rows): dense float32
        of shape (len(rows), len(queries)), equal bit for bit to ``index.cross_scores(rows, queries)``."""
        indptr, indices, data = index.row_arrays(np.asarray(queries, dtype=np.int64))
        found = rows_times(indptr, indices, data, self._postings)
        if found is None:  # pragma: no cover - index types the kernel does not take
            product = sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, index.n_terms)) @ self._postings
            found = product.indptr, product.indices, product.data
        product_indptr, columns, values = found
        cosines = np.zeros((len(self.rows), len(indptr) - 1), dtype=np.float32)
        cosines[columns, np.repeat(np.arange(len(indptr) - 1), np.diff(product_indptr))] = values
        return cosines


KEPT_SETS = 4
"""Row sets remembered per index (the newest and most popular, at a moment or two)."""

_ASKED = object()  # a row set asked once: its postings are built when it is asked again
_kept = KeptPerOwner(KEPT_SETS)  # index -> {rows' bytes: SharedRows or _ASKED}


def shared_rows(index: CosineIndex, rows: np.ndarray) -> SharedRows | None:
    """:class:`SharedRows` of ``rows`` when ``index`` was asked for the same rows before, else
    ``None``: the postings are built on a set's second request, since building them costs
    several passes over the rows (a workload whose every request brings new rows, as a replay
    of logged impressions over time does, never pays for them). The last :data:`KEPT_SETS` sets
    asked of each index are remembered (an index never changes, so neither do the postings of
    its rows)."""
    rows = np.asarray(rows, dtype=np.int64)
    key = rows.tobytes()
    found = _kept.get(index, key)
    if found is None:
        _kept.put(index, key, _ASKED)
        return None
    if found is _ASKED:
        found = SharedRows(index, rows)
        _kept.put(index, key, found)
    return found


def pool_cosines(index: CosineIndex, rows: np.ndarray, queries: np.ndarray, shared: list[np.ndarray]) -> np.ndarray:
    """``index.cross_scores(rows, queries)`` (``rows`` sorted, unique), the part of each row set
    of ``shared`` (each a subset of ``rows``) asked before read through its kept postings: the
    same bits."""
    cosines = np.empty((len(rows), len(queries)), dtype=np.float32)
    rest = np.ones(len(rows), dtype=bool)
    for subset in shared:
        kept = shared_rows(index, subset) if len(subset) else None
        if kept is not None:
            at = np.searchsorted(rows, subset)
            cosines[at] = kept.cosines(index, queries)
            rest[at] = False
    rest_at = np.flatnonzero(rest)
    cosines[rest_at] = index.cross_scores(rows[rest_at], queries)
    return cosines
