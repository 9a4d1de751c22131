"""Exact cosine nearest-neighbour index over unit-length sparse TF-IDF rows.

How it works
------------
The index keeps the article-by-term matrix ``vectors`` (CSR, one unit-length row per
article) and its transpose ``postings`` (CSR, one row per term listing the articles that
contain it: an inverted index). The cosine of a query with every article is then the
sparse product ``query @ postings``: it touches only the postings of the query's own
terms, so a single query costs time proportional to how many articles share its terms,
not to the size of the archive. Scores come back as a dense vector, one per row, ready
for masking and top-k selection (:func:`top_rows`).

Memory: ``vectors`` and ``postings`` hold the same non-zeros, so the index costs about
twice the CSR matrix (8 bytes per non-zero for float32 values and int32 indices, twice).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["CosineIndex", "top_rows"]


class CosineIndex:
    """Exact cosine similarity search over sparse unit-length rows.

    Parameters
    ----------
    vectors : scipy.sparse.csr_matrix of shape (n_rows, n_terms)
        L2-normalised rows with sorted indices.
    postings : scipy.sparse.csr_matrix of shape (n_terms, n_rows), optional
        The transpose of ``vectors`` in CSR form, when already at hand (a loaded model);
        computed otherwise.
    """

    def __init__(self, vectors: sp.csr_matrix, postings: sp.csr_matrix | None = None) -> None:
        self.vectors = vectors if sp.isspmatrix_csr(vectors) else sp.csr_matrix(vectors)
        self.postings = postings if postings is not None else self.vectors.T.tocsr()

    @property
    def n_rows(self) -> int:
        """Number of indexed rows."""
        return self.vectors.shape[0]

    def row_vector(self, row: int) -> sp.csr_matrix:
        """The stored vector of ``row`` as a 1-row CSR matrix."""
        return self.vectors[row]

    def scores(self, query: sp.csr_matrix) -> np.ndarray:
        """Cosine of a 1-row ``query`` with every indexed row.

        Returns
        -------
        ndarray of float32, shape (n_rows,)
        """
        if query.nnz == 0:
            return np.zeros(self.n_rows, dtype=np.float32)
        product = query @ self.postings
        scores = np.zeros(self.n_rows, dtype=np.float32)
        scores[product.indices] = product.data
        return scores

    def pair_scores(self, rows: np.ndarray) -> np.ndarray:
        """Cosine between every pair of ``rows``: dense array of shape (len(rows), len(rows)).

        Built for the few dozen candidates of one list: the rows' terms are gathered into a
        small dense block over just the terms they use, which avoids sparse-matrix overhead.
        """
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.vectors.indptr[rows], self.vectors.indptr[rows + 1]
        lengths = (ends - starts).astype(np.int64)
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        terms, columns = np.unique(self.vectors.indices[positions], return_inverse=True)
        block = np.zeros((len(rows), len(terms)), dtype=np.float32)
        block[np.repeat(np.arange(len(rows)), lengths), columns] = self.vectors.data[positions]
        return block @ block.T


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest positive scores, plus every row tied with the k-th.

    The caller orders the result (by score, then by article id) and cuts it to ``k``;
    returning the ties makes that cut independent of how the partition broke them.

    Parameters
    ----------
    scores : ndarray of shape (n_rows,)
        Masked rows carry ``-inf`` (or any value <= 0).
    k : int

    Returns
    -------
    ndarray of int64
        Unordered row numbers, at most ``k`` plus ties.
    """
    positive = np.flatnonzero(scores > 0)
    if positive.size <= k:
        return positive
    kth = positive.size - k
    threshold = np.partition(scores[positive], kth)[kth]
    return positive[scores[positive] >= threshold]
