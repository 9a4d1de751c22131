"""Cosines of a few candidate rows with each other, one candidate at a time.

How it works
------------
A diversity walk (:mod:`recommender._recommend`) picks about ``k`` of a few dozen candidates
and needs, after each pick, the pick's cosine with every candidate: ``k`` rows of the
candidates' pair matrix, never the whole matrix. :class:`BlockCosines` selects the
candidates' vectors once, as the arrays of one CSR block; :meth:`BlockCosines.of` spreads one
candidate's terms into the index's dense term scratch and multiplies the block by it (scipy's
sparse-times-vector kernel called on the arrays, one pass over the block's non-zeros). Each
cosine adds its products in float32 in term order (the terms a candidate does not share add
exact zeros): the same bits as :meth:`CosineIndex.pair_scores` and :meth:`CosineIndex.scores`.

Pure computation: index and rows in, arrays out.
"""

from __future__ import annotations

import numpy as np

from ._index import CosineIndex, _dense_weights
from ._sparse_kernels import matvec_into

__all__ = ["BlockCosines"]


class BlockCosines:
    """The cosines of each of ``rows`` with all of them, row by row on demand.

    Parameters
    ----------
    index : CosineIndex
    rows : ndarray of int, shape (n,)
        Indexed rows.
    """

    def __init__(self, index: CosineIndex, rows: np.ndarray) -> None:
        self._indptr, self._indices, self._data = index.row_arrays(np.asarray(rows, dtype=np.int64))
        self._n_terms = index.n_terms

    def of(self, position: int) -> np.ndarray:
        """Cosine of row ``rows[position]`` with each of ``rows``: float32 of shape (n,).

        Equal bit for bit to row ``position`` of ``index.pair_scores(rows)``.
        """
        indptr = self._indptr
        start, end = indptr[position], indptr[position + 1]
        terms = self._indices[start:end]
        weights = _dense_weights(self._n_terms)
        weights[terms] = self._data[start:end]
        cosines = np.zeros(len(indptr) - 1, dtype=np.float32)
        try:
            matvec_into(indptr, self._indices, self._data, weights[:self._n_terms], cosines)
        finally:
            weights[terms] = 0
        return cosines
