"""Exact cosine nearest-neighbour index over unit-length sparse TF-IDF rows.

How it works
------------
The index keeps the article-by-term matrix (CSR, one unit-length row per article) and its
transpose, the *postings* (CSR, one row per term listing the articles that contain it: an
inverted index). The cosine of a query with every article is the sparse product
``query @ postings``: it touches only the postings of the query's own terms, so a single
query costs time proportional to how many articles share its terms, not to the archive.
Scores come back as a dense vector, one per row, ready for masking and top-k selection
(:func:`top_rows`).

Adding articles without rebuilding: rows are held in two *segments*, a large ``base`` and
a small ``delta`` of recent additions. :meth:`CosineIndex.extended` returns a new index that
shares the base and rebuilds only the delta, so adding an article costs time proportional
to the delta, not to the archive; once the delta outgrows ``max(1,000, 5%)`` of the base the
two are merged (an occasional O(archive) step). Queries combine both segments and give the
same scores as one merged index.

Memory: matrix and postings hold the same non-zeros, so the index costs about twice the
CSR matrix (8 bytes per non-zero for float32 values and int32 indices, twice).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._cross_kernel import cross_cosines, pair_cosines
from ._segments import should_fold
from ._sparse_kernels import matvec_into, rows_of, running_sums

__all__ = ["CosineIndex", "RowTerms", "query_weights_at", "top_rows"]


SMALL_GATHER_ROWS = 64
"""Up to this many rows, :meth:`CosineIndex.gather` slices them in numpy: scipy's row selection
builds and checks a matrix, which costs more than the copy for a list's worth of rows."""


MATVEC_QUERIES = 8
"""Up to this many query rows, :meth:`CosineIndex.cross_scores` takes one sparse-times-vector
pass per query (about a tenth of a sparse product's cost each); beyond, one sparse product."""


class RowTerms(NamedTuple):
    """The non-zeros of one row: sorted column ``indices`` and their ``data``."""

    indices: np.ndarray
    data: np.ndarray


class _Segment:
    __slots__ = ("vectors", "postings")

    def __init__(self, vectors: sp.csr_matrix, postings: sp.csr_matrix | None = None) -> None:
        self.vectors = vectors if sp.isspmatrix_csr(vectors) else sp.csr_matrix(vectors)
        self.postings = postings if postings is not None else self.vectors.T.tocsr()


class CosineIndex:
    """Exact cosine similarity search over sparse unit-length rows.

    Parameters
    ----------
    vectors : scipy.sparse.csr_matrix of shape (n_rows, n_terms)
        L2-normalised rows with sorted indices.
    postings : scipy.sparse.csr_matrix of shape (n_terms, n_rows), optional
        The transpose of ``vectors`` in CSR form, when already at hand (a loaded model).
    delta : scipy.sparse.csr_matrix of shape (n_added, n_terms), optional
        Rows appended after ``vectors`` and kept apart until they are folded in
        (see :mod:`recommender._segments`).
    """

    def __init__(self, vectors: sp.csr_matrix, postings: sp.csr_matrix | None = None, *,
                 delta: sp.csr_matrix | None = None) -> None:
        self._base = _Segment(vectors, postings)
        self._delta: _Segment | None = None if delta is None else _Segment(delta)

    @property
    def n_base(self) -> int:
        return self._base.vectors.shape[0]

    @property
    def n_terms(self) -> int:
        """Number of terms (columns)."""
        return self._base.vectors.shape[1]

    @property
    def n_rows(self) -> int:
        """Number of indexed rows."""
        return self.n_base + (self._delta.vectors.shape[0] if self._delta is not None else 0)

    def _segments(self) -> list[tuple[_Segment, int]]:
        return [(self._base, 0)] + ([(self._delta, self.n_base)] if self._delta is not None else [])

    def extended(self, vectors: sp.csr_matrix) -> CosineIndex:
        """A new index holding these rows too (appended); this one is left unchanged."""
        delta = vectors if self._delta is None else sp.vstack([self._delta.vectors, vectors], format="csr")
        if should_fold(delta.shape[0], self.n_base):
            return CosineIndex(sp.vstack([self._base.vectors, delta], format="csr"))
        return CosineIndex(self._base.vectors, self._base.postings, delta=sp.csr_matrix(delta))

    @cached_property
    def vectors(self) -> sp.csr_matrix:
        """All rows as one CSR matrix (built once per index when there is a delta)."""
        if self._delta is None:
            return self._base.vectors
        return sp.vstack([self._base.vectors, self._delta.vectors], format="csr")

    @cached_property
    def postings(self) -> sp.csr_matrix:
        """The transpose of :attr:`vectors` as CSR (built once per index when there is a delta)."""
        if self._delta is None:
            return self._base.postings
        return sp.hstack([self._base.postings, self._delta.postings], format="csr")

    def _locate(self, row: int) -> tuple[_Segment, int]:
        return (self._base, row) if row < self.n_base else (self._delta, row - self.n_base)

    def row_vector(self, row: int) -> sp.csr_matrix:
        """The stored vector of ``row`` as a 1-row CSR matrix."""
        segment, local = self._locate(int(row))
        return segment.vectors[local]

    def row_terms(self, row: int) -> RowTerms:
        """Column indices and values of ``row``'s vector, as views (no matrix is built)."""
        segment, local = self._locate(int(row))
        start, end = segment.vectors.indptr[local], segment.vectors.indptr[local + 1]
        return RowTerms(segment.vectors.indices[start:end], segment.vectors.data[start:end])

    def row_lengths(self, rows: np.ndarray) -> np.ndarray:
        """Non-zeros of each of ``rows``: int64 of shape (len(rows),)."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = np.zeros(len(rows), dtype=np.int64)
        for segment, first in self._segments():
            mine = (rows >= first) & (rows < first + segment.vectors.shape[0])
            local = rows[mine] - first
            lengths[mine] = segment.vectors.indptr[local + 1] - segment.vectors.indptr[local]
        return lengths

    def posting_volume(self, row: int) -> int:
        """Entries :meth:`scores` reads for ``row``'s vector: its terms' postings, in every segment."""
        terms = self.row_terms(row).indices
        return sum(int((segment.postings.indptr[terms + 1] - segment.postings.indptr[terms]).sum())
                   for segment, _ in self._segments())

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lengths, column indices and values of ``rows``, concatenated in the given order.

        Returns
        -------
        lengths : ndarray of int64, shape (len(rows),)
        indices, data : ndarray
            Every row's sorted column indices and values, one row after the other.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if self._delta is None:
            vectors = self._base.vectors
            if len(rows) > SMALL_GATHER_ROWS:  # one segment: scipy's row selection, in C
                block = vectors[rows]
                return np.diff(block.indptr).astype(np.int64), block.indices, block.data
            starts = vectors.indptr[rows].astype(np.int64)
            lengths = vectors.indptr[rows + 1].astype(np.int64) - starts
            positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
            return lengths, vectors.indices[positions], vectors.data[positions]
        lengths = np.zeros(len(rows), dtype=np.int64)
        pieces_at = np.empty(len(rows), dtype=np.int64)
        indices, data, offset = [], [], 0
        for segment, first in self._segments():
            mine = np.flatnonzero((rows >= first) & (rows < first + segment.vectors.shape[0]))
            local = rows[mine] - first
            starts, ends = segment.vectors.indptr[local], segment.vectors.indptr[local + 1]
            counts = (ends - starts).astype(np.int64)
            positions = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            indices.append(segment.vectors.indices[positions])
            data.append(segment.vectors.data[positions])
            lengths[mine] = counts
            pieces_at[mine] = offset + np.cumsum(counts) - counts
            offset += counts.sum()
        flat_indices, flat_data = np.concatenate(indices), np.concatenate(data)
        order = np.repeat(pieces_at - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        return lengths, flat_indices[order], flat_data[order]

    def row_arrays(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR arrays ``(indptr, indices, data)`` of ``rows`` (in that order), without building a
        matrix (``indptr`` of the indices' integer type)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self._delta is None:
            return rows_of(self._base.vectors, rows)
        lengths, indices, data = self.gather(rows)
        indptr = np.zeros(len(rows) + 1, dtype=indices.dtype)
        np.cumsum(lengths, out=indptr[1:])
        return indptr, indices, data

    def select(self, rows: np.ndarray) -> sp.csr_matrix:
        """The vectors of ``rows`` (in that order) as a CSR matrix."""
        indptr, indices, data = self.row_arrays(rows)
        return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, self._base.vectors.shape[1]))

    def product(self, queries: sp.csr_matrix) -> sp.csr_matrix:
        """Cosines of each query row with every indexed row: CSR of shape (n_queries, n_rows)."""
        parts = [queries @ segment.postings for segment, _ in self._segments()]
        return parts[0].tocsr() if len(parts) == 1 else sp.hstack(parts, format="csr")

    def scores(self, query: sp.csr_matrix) -> np.ndarray:
        """Cosine of a 1-row ``query`` with every indexed row.

        Returns
        -------
        ndarray of float32, shape (n_rows,)
        """
        scores = np.zeros(self.n_rows, dtype=np.float32)
        if query.nnz == 0:
            return scores
        for segment, first in self._segments():
            product = query @ segment.postings
            scores[first + product.indices] = product.data
        return scores

    def pair_cosines(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Cosine of each pair ``(left[i], right[i])``: float32 of shape (len(left),).

        Equal bit for bit to the same pair's entry in :meth:`scores`: the products are summed
        in float32, one after the other in term order, as scipy's sparse product sums them.
        Built for the few pairs a score bound cannot settle. With numba, a compiled pass
        (:func:`recommender._cross_kernel.pair_cosines`; with rows added since the fit, for
        pairs of one ``left`` row only, through :meth:`cross_scores`); otherwise one small
        step per distinct ``left`` row, the rest vectorised.
        """
        left, right = self._checked(left), self._checked(right)
        n_pairs = len(left)
        if n_pairs == 0:
            return np.zeros(0, dtype=np.float32)
        single = bool((left == left[0]).all())  # one query's pairs: already in order
        order = None if single else np.argsort(left, kind="stable")
        if self._delta is None:
            cosines = np.empty(n_pairs, dtype=np.float32)
            if pair_cosines(self._base.vectors, left, right, np.arange(n_pairs) if single else order, cosines):
                return cosines
        elif single and (compiled := self._compiled_cross_scores(right, left[:1])) is not None:
            return compiled[:, 0]
        lengths, indices, data = self.gather(right if single else right[order])
        ends = np.cumsum(lengths)
        products = np.zeros(len(indices), dtype=np.float32)
        weights = _dense_weights(self._base.vectors.shape[1])  # one left row at a time, dense; left all 0
        lefts = left if single else left[order]
        firsts = np.zeros(0, dtype=np.int64) if single else np.flatnonzero(lefts[1:] != lefts[:-1]) + 1
        clean = False
        try:
            for first, last in zip([0, *firsts.tolist()], [*firsts.tolist(), n_pairs]):
                terms = self.row_terms(int(lefts[first]))
                start, end = int(ends[first] - lengths[first]), int(ends[last - 1])
                weights[terms.indices] = terms.data
                products[start:end] = weights[indices[start:end]] * data[start:end]
                weights[terms.indices] = 0
            clean = True
        finally:
            if not clean:  # interrupted with a row written: the next call needs zeros
                weights.fill(0)
        totals = running_sums(products, ends)  # terms the left row lacks add exact zeros
        if single:
            return totals
        ordered = np.zeros(n_pairs, dtype=np.float32)
        ordered[order] = totals
        return ordered

    def pair_scores(self, rows: np.ndarray) -> np.ndarray:
        """Cosine between every pair of ``rows``: dense array of shape (len(rows), len(rows)).

        Built for the few dozen candidates of one list: the rows' terms are gathered into a
        small CSR block over just the terms they use, multiplied by scipy's sparse kernel
        (no BLAS call: multi-threaded BLAS on tiny products can cost 100x on shared cores).
        """
        lengths, indices, data = self.gather(rows)
        # Renumber the terms into 0..len(indices) without sorting: every occurrence of a term
        # reads back the one slot written last for it (an uninitialised scratch array is O(1)).
        slot = np.empty(self._base.vectors.shape[1], dtype=np.int64)
        slot[indices] = np.arange(len(indices))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        block = sp.csr_matrix((data, slot[indices], indptr), shape=(len(lengths), max(len(indices), 1)))
        return (block @ block.T).toarray()

    def cross_scores(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Cosine of each of ``rows`` with each of ``others``: dense float32 of shape
        (len(rows), len(others)), equal bit for bit to the sparse product of their vectors.

        Built for one request's candidates against its few query rows. With numba, one
        compiled pass per segment reads four query rows at a time
        (:func:`recommender._cross_kernel.cross_cosines`). Without it: up to
        :data:`MATVEC_QUERIES` of ``others``, each is spread into this thread's dense term
        scratch and the candidates' block multiplies it (scipy's sparse-times-vector kernel:
        one pass over the candidates' non-zeros, no matrix built per query); more, and the
        terms of ``others`` are numbered 1, 2, ... through a per-thread scratch (0 elsewhere,
        and again after the call), so every term of ``rows`` reads its column in one pass and
        one sparse product takes the shared terms. Either way each cosine adds its products
        in float32 in term order, as :meth:`scores` does.
        """
        rows, others = self._checked(rows), self._checked(others)
        compiled = self._compiled_cross_scores(rows, others)
        if compiled is not None:
            return compiled
        if len(others) <= MATVEC_QUERIES:
            # the same kernel as ``block @ weights``, on the rows' arrays: no matrix, no checks per pass
            indptr, indices, data = self.row_arrays(rows)
            by_query = np.zeros((len(others), len(indptr) - 1), dtype=np.float32)
            weights = _dense_weights(self.n_terms)
            for column, other in enumerate(others.tolist()):
                terms = self.row_terms(other)
                weights[terms.indices] = terms.data
                try:  # the terms a candidate lacks add exact zeros
                    matvec_into(indptr, indices, data, weights[:self.n_terms], by_query[column])
                finally:
                    weights[terms.indices] = 0
            return np.ascontiguousarray(by_query.T)
        row_lengths, row_terms, row_data = self.gather(rows)
        other_lengths, other_terms, other_data = self.gather(others)
        if not len(row_terms) or not len(other_terms):
            return np.zeros((len(row_lengths), len(other_lengths)), dtype=np.float32)
        slots = _term_slots(self.n_terms)
        try:
            slots[other_terms] = np.arange(1, len(other_terms) + 1, dtype=np.int32)  # repeated: the last write wins
            columns, other_columns = slots[row_terms], slots[other_terms]
        finally:
            slots[other_terms] = 0
        width = len(other_terms) + 1
        shared = np.flatnonzero(columns)  # only these terms meet a query: the product skips the rest
        left_indptr = np.zeros(len(row_lengths) + 1, dtype=np.int32)
        left_indptr[1:] = np.searchsorted(shared, np.cumsum(row_lengths))
        left = sp.csr_matrix((row_data[shared], columns[shared], left_indptr), shape=(len(row_lengths), width))
        right = sp.csr_matrix((other_data, other_columns, _indptr(other_lengths)), shape=(len(other_lengths), width))
        return (left @ right.T).toarray()

    def load_compiled_pass(self) -> None:
        """Load :meth:`cross_scores`'s and :meth:`pair_cosines`'s compiled passes for this
        index's arrays now (numba's import, and the machine code from its cache or compiled),
        so that a server's first request does not wait for it."""
        if self.n_rows:
            self.cross_scores(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
            self.pair_cosines(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))

    def _checked(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` as int64, or IndexError if one is not a row of the index."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= self.n_rows):
            raise IndexError(f"rows out of range for an index of {self.n_rows} rows")
        return rows

    def _compiled_cross_scores(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray | None:
        """:meth:`cross_scores` through the compiled pass, segment by segment; ``None`` where it cannot run."""
        cosines = np.empty((len(rows), len(others)), dtype=np.float32)
        if self._delta is None:
            base = self._base.vectors
            return cosines if cross_cosines(base, rows, base, others, cosines) else None
        queries = self.select(others)
        for segment, first in self._segments():
            at = np.flatnonzero((rows >= first) & (rows < first + segment.vectors.shape[0]))
            part = np.empty((len(at), len(others)), dtype=np.float32)
            if not cross_cosines(segment.vectors, rows[at] - first, queries, np.arange(len(others)), part):
                return None
            cosines[at] = part
        return cosines


def _indptr(lengths: np.ndarray) -> np.ndarray:
    """CSR row pointers (int32) of rows of these lengths."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=indptr[1:])
    return indptr


_scratch = threading.local()


def _term_slots(n_terms: int) -> np.ndarray:
    """This thread's term scratch for :meth:`CosineIndex.cross_scores`: int32, of at least
    ``n_terms`` entries, allocated once per thread, all 0 between calls."""
    slots = getattr(_scratch, "slots", None)
    if slots is None or len(slots) < n_terms:
        slots = _scratch.slots = np.zeros(n_terms, dtype=np.int32)
    return slots


def query_weights_at(query: RowTerms | sp.csr_matrix, terms: np.ndarray, n_terms: int) -> np.ndarray:
    """A query's weight (its ``data``; float32) at each of ``terms``, 0 where it lacks the term;
    through this thread's dense scratch, so no vector of every term is built per call."""
    weights = _dense_weights(n_terms)
    weights[query.indices] = query.data
    try:
        return weights[terms]
    finally:
        weights[query.indices] = 0


def _dense_weights(size: int) -> np.ndarray:
    """This thread's dense term-weight scratch, all 0, of at least ``size`` entries: allocated
    once per thread (a call leaves it as it found it), not once per query (at 100k articles
    it is half a megabyte)."""
    weights = getattr(_scratch, "weights", None)
    if weights is None or len(weights) < size:
        weights = _scratch.weights = np.zeros(size, dtype=np.float32)
    return weights


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
