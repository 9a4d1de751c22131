"""Neighbour profiles: second-order similarity that bridges vocabulary (the *anchored* score).

How it works
------------
Two stories about the same affair often share only a few content words, so their TF-IDF
cosine is small and noisy. Each indexed article ``a`` is therefore also described by its
*profile* ``q_a``: the raw cosines of its ``m`` most similar other articles (computed once
at fit time). Two articles whose profiles overlap are about the same thing even when their
own words barely do, because the archive's other stories bridge the vocabulary (Explicit
Semantic Analysis, with the archive itself as the concepts). The served score is one
cosine over the concatenation ``[x, q]``::

    score(a, b) = (x_a . x_b + q_a . q_b) / (n_a * n_b),    n_a = sqrt(1 + |q_a|^2)

where ``x`` is the unit-length TF-IDF row. It lies in [0, 1], equals the TF-IDF cosine for
an article with no neighbours, and leans on the neighbours for an article that has many.
``docs/relevance_research.md`` measures it (Lee correlation 0.59 -> 0.72) and the
alternatives that lost.

*Articles added after the fit* (and texts that are not indexed) follow the **newcomer
rule**: a newcomer keeps a neighbour ``c`` in its profile only if it also enters ``c``'s
own top ``m``, i.e. its cosine beats ``c``'s m-th cosine ``kth[c]``. An added article's
vocabulary is the fitted one, so its plain top ``m`` is unreliable when its story began
after the fit; the mutual test keeps only neighbours that agree. The existing profiles are
kept exact: a newcomer enters every profile whose top ``m`` it beats, evicting that
profile's weakest entry.

Storage: the profile rows (CSR, at most ``m`` entries each) and their transpose, the
*profile postings*, so that ``q_a @ postings`` gives ``q_a . q_b`` for every ``b`` at once
while touching only ``m`` posting lists. Additions go to a small overlay (changed rows and
signed posting corrections) merged into the base when it grows, so adding an article never
rebuilds the profile matrices (it still scans one cosine per archived article, and copies
three per-article arrays). While an overlay is in use, overlaps are the sum of two float32
products, so a saved (merged) model may score a pair one unit in the last place apart from
the live model it was saved from; lists computed from one model state always agree.

Pure computation: arrays in, arrays out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ._segments import should_fold
from ._sparse_kernels import rows_of, rows_times, running_sums

__all__ = ["NeighbourProfiles"]

FOLD_MIN_ENTRIES = 5_000
"""Posting corrections (entries) an overlay holds before it is folded (see recommender._segments)."""


def _top(scores: np.ndarray, m: int) -> np.ndarray:
    """Rows of the ``m`` highest positive scores, best first, ties by row number."""
    positive = np.flatnonzero(scores > 0)
    if positive.size > m:
        threshold = np.partition(scores[positive], positive.size - m)[positive.size - m]
        positive = positive[scores[positive] >= threshold]
    return positive[np.lexsort((positive, -scores[positive]))][:m]


def _norm(cosines: np.ndarray) -> np.float32:
    """``sqrt(1 + |q|^2)`` of one profile, summed in float64."""
    cosines = np.asarray(cosines, dtype=np.float64)
    return np.float32(np.sqrt(1.0 + np.dot(cosines, cosines)))


def _one_row(indices: np.ndarray, data: np.ndarray, n: int) -> sp.csr_matrix:
    """A one-row CSR matrix over ``(indices, data)``, sharing the arrays."""
    return sp.csr_matrix((data, indices, np.array([0, len(indices)], dtype=indices.dtype)), shape=(1, n), copy=False)


def _core_sums(concepts: np.ndarray, weights: np.ndarray,
               core_postings: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """One core's products with :meth:`NeighbourProfiles.core_postings`: the rows it meets
    (sorted) and their sums, added concept by concept in float32 as the sparse product adds
    them (a stable sort by row keeps each row's products in concept order; the sums run left
    to right), in a few vectorised steps over the core's few dozen postings."""
    indptr, rows, values = rows_of(core_postings, np.asarray(concepts))
    products = np.repeat(np.asarray(weights, dtype=np.float32), np.diff(indptr)) * values
    order = np.argsort(rows, kind="stable")
    rows, products = rows[order], products[order]
    if not len(rows):
        return rows, products
    ends = np.flatnonzero(np.append(rows[1:] != rows[:-1], True)) + 1
    return rows[ends - 1], running_sums(products, ends)


def _core_of(cosines: np.ndarray, core: int) -> tuple[np.float32, np.float32]:
    """One profile's core threshold (its ``core``-th largest cosine, 0 with fewer) and core norm
    ``sqrt(1 + |core|^2)`` (summed in float64)."""
    cosines = np.asarray(cosines, dtype=np.float32)
    kth = np.float32(0.0) if len(cosines) < core or core == 0 else -np.partition(-cosines, core - 1)[core - 1]
    kept = cosines[cosines >= kth].astype(np.float64)
    return np.float32(kth), np.float32(np.sqrt(1.0 + np.dot(kept, kept)))


CORE_CHUNK_ROWS = 65_536
"""Rows whose core statistics are computed at a time (a dense block of ``m`` columns each)."""


def _core_stats(rows: sp.csr_matrix, core: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_core_of` for every row of a profile matrix, vectorised in chunks of rows."""
    n = rows.shape[0]
    kth, norms = np.zeros(n, np.float32), np.ones(n, np.float32)
    counts = np.diff(rows.indptr)
    width = int(counts.max(initial=0))
    if core == 0 or width == 0:
        return kth, norms
    for start in range(0, n, CORE_CHUNK_ROWS):
        stop = min(n, start + CORE_CHUNK_ROWS)
        lengths = counts[start:stop]
        dense = np.zeros((stop - start, width), np.float32)
        first, last = rows.indptr[start], rows.indptr[stop]
        owner = np.repeat(np.arange(stop - start), lengths)
        dense[owner, np.arange(last - first) - np.repeat(rows.indptr[start:stop] - first, lengths)] = rows.data[first:last]
        if width >= core:
            chunk_kth = -np.partition(-dense, core - 1, axis=1)[:, core - 1]
            chunk_kth[lengths < core] = 0.0
        else:
            chunk_kth = np.zeros(stop - start, np.float32)
        kept = np.where(dense >= chunk_kth[:, None], dense.astype(np.float64), 0.0)
        kth[start:stop] = chunk_kth
        norms[start:stop] = np.sqrt(1.0 + np.einsum("ij,ij->i", kept, kept)).astype(np.float32)
    return kth, norms


def _per_row(ufunc: np.ufunc, matrix: sp.csr_matrix, fill: float, *, square: bool = False) -> np.ndarray:
    """``ufunc`` reduced over each row's stored values (meaningless for empty rows)."""
    values = matrix.data.astype(np.float64)
    values = np.append(np.square(values) if square else values, fill)
    return ufunc.reduceat(values, matrix.indptr[:-1])


class NeighbourProfiles:
    """Every indexed article's ``m`` most similar other articles and their cosines.

    Build with :func:`neighbour_profiles` (fit time) or from saved arrays; grow with
    :meth:`added`. Instances are never modified after construction (caches aside).

    Parameters
    ----------
    rows : scipy.sparse.csr_matrix of shape (n, n)
        Row ``a`` holds ``a``'s profile: up to ``m`` positive cosines, self excluded.
    m : int
        Profile length.
    postings : scipy.sparse.csr_matrix of shape (n, n), optional
        The transpose of ``rows`` in CSR form, when at hand (a loaded model).
    kth, norms : ndarray of float32, shape (n,), optional
        Each row's m-th cosine (0 when it has fewer than ``m``) and ``sqrt(1 + |q|^2)``.
    outside : ndarray of float32, shape (n,), optional
        For rows whose profile left out a more similar row (articles added after the fit,
        under the newcomer rule): the largest cosine left out; 0 otherwise. A row's cosine
        with any row outside its profile is at most ``bound[row] = max(kth, outside)``,
        which lets the batch path skip the full product (:func:`recommender._related.pruned`).

    Attributes
    ----------
    m : int
    kth, norms, outside : ndarray of float32, shape (n,)
        As the parameters.
    bound : ndarray of float32, shape (n,)
        ``max(kth, outside)``: the largest cosine a row outside a profile can have with its owner.
    reach : ndarray of float32, shape (n,)
        ``bound / norms``, which bounds the Related score of a row from an article with no link to it.
    n_rows : int
    """

    def __init__(self, rows: sp.csr_matrix, m: int, postings: sp.csr_matrix | None = None,
                 kth: np.ndarray | None = None, norms: np.ndarray | None = None,
                 outside: np.ndarray | None = None, *, core: int = 0, core_weight: float = 0.0) -> None:
        self.m = int(m)
        self.core, self.core_weight = int(core), np.float32(core_weight)
        self._core_stats: tuple[np.ndarray, np.ndarray] | None = None  # built on first use
        self._core_postings: sp.csr_matrix | None = None  # built on first use
        self._rows = rows
        self._postings = postings if postings is not None else sp.csr_matrix(rows.T)
        counts = np.diff(rows.indptr)
        if kth is None:
            smallest = _per_row(np.minimum, rows, np.inf)
            kth = np.where(counts >= self.m, smallest, 0.0)
        if norms is None:
            norms = np.sqrt(1.0 + np.where(counts > 0, _per_row(np.add, rows, 0.0, square=True), 0.0))
        self.kth = np.asarray(kth, dtype=np.float32)
        self.norms = np.asarray(norms, dtype=np.float32)
        self.outside = np.zeros(len(self.kth), np.float32) if outside is None else np.asarray(outside, np.float32)
        self._near_duplicates: dict[float, sp.csr_matrix] = {}
        self._full_postings: sp.csr_matrix | None = None  # built on demand when rows changed
        # overlay of rows added or changed since the base was built, and posting corrections
        self._changed: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._corrections: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._delta: sp.csr_matrix | None = None

    @property
    def n_rows(self) -> int:
        return len(self.norms)

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Neighbour rows and cosines of one profile (views; do not modify)."""
        changed = self._changed.get(row)
        if changed is not None:
            return changed
        start, end = self._rows.indptr[row], self._rows.indptr[row + 1]
        return self._rows.indices[start:end], self._rows.data[start:end]

    def select(self, rows: np.ndarray) -> sp.csr_matrix:
        """Profiles of ``rows`` as a CSR matrix of shape (len(rows), n)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 1:  # one query: its profile as views, without scipy's row selection
            indices, data = self.row(int(rows[0]))
            return _one_row(indices, data, self.n_rows)
        if not self._changed:
            return self._resized(self._rows, self.n_rows)[rows]
        changed = np.zeros(self.n_rows, dtype=bool)
        changed[list(self._changed)] = True
        mine = changed[rows]
        base = self._resized(self._rows, self.n_rows)[rows[~mine]]  # unchanged rows: scipy, in C
        pieces = [self._changed[row] for row in rows[mine].tolist()]  # changed rows: from the overlay
        lengths = [len(indices) for indices, _ in pieces]
        overlay = sp.csr_matrix(
            (np.concatenate([data for _, data in pieces] + [np.zeros(0, np.float32)]),
             np.concatenate([indices for indices, _ in pieces] + [np.zeros(0, np.int32)]),
             np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])), shape=(len(pieces), self.n_rows))
        position = np.empty(len(rows), dtype=np.int64)
        position[~mine] = np.arange(base.shape[0])
        position[mine] = base.shape[0] + np.arange(len(pieces))
        return sp.csr_matrix(sp.vstack([base, overlay], format="csr")[position])

    @property
    def rows(self) -> sp.csr_matrix:
        """Every profile as one CSR matrix of shape (n, n) (built when rows changed)."""
        if not self._changed:
            return self._resized(self._rows, self.n_rows)
        return self.select(np.arange(self.n_rows))

    @property
    def postings(self) -> sp.csr_matrix:
        """The transpose of :attr:`rows` as CSR (built once when rows changed)."""
        if self._delta is None:
            return self._resized(self._postings, self.n_rows)
        if self._full_postings is None:
            self._full_postings = sp.csr_matrix(self.rows.T)
        return self._full_postings

    def links(self, rows: np.ndarray, selected: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cosines the profiles hold for ``rows``, either way: each row's profile and the
        articles whose profile holds it, merged (``selected``: :meth:`select` of ``rows``).

        Returns
        -------
        indptr : ndarray of int64, shape (len(rows) + 1,)
        indices : ndarray of int64
            Columns, sorted within each row, each once.
        data : ndarray of float32
            The cosine (the larger, where both hold it: they are equal unless rounding differs).

        The same entries as ``selected.maximum(postings[rows])`` (profile cosines are positive),
        built without scipy matrices: for one query their construction costs more than the merge.
        """
        rows = np.asarray(rows, dtype=np.int64)
        postings, n = self.postings, self.n_rows
        starts = postings.indptr[rows].astype(np.int64)
        lengths = postings.indptr[rows + 1].astype(np.int64) - starts
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        line = np.arange(len(rows), dtype=np.int64) * n
        keys = np.concatenate([np.repeat(line, np.diff(selected.indptr)) + selected.indices,
                               np.repeat(line, lengths) + postings.indices[at]])
        values = np.concatenate([selected.data, postings.data[at]]).astype(np.float32, copy=False)
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
        data = np.maximum.reduceat(values, first) if len(first) else values
        keys = keys[first]
        position = keys // max(n, 1)
        indptr = np.searchsorted(position, np.arange(len(rows) + 1)).astype(np.int64)
        return indptr, keys - position * n, data

    @staticmethod
    def _resized(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
        """``matrix`` with extra empty rows and columns up to (n, n); shares its arrays."""
        if matrix.shape == (n, n):
            return matrix
        indptr = np.concatenate([matrix.indptr, np.full(n - matrix.shape[0], matrix.indptr[-1], matrix.indptr.dtype)])
        resized = sp.csr_matrix((matrix.data, matrix.indices, indptr), shape=(n, n), copy=False)
        resized.has_sorted_indices = matrix.has_sorted_indices
        return resized

    @cached_property
    def bound(self) -> np.ndarray:
        """Per row, the largest cosine any row outside its profile can have with it."""
        return np.maximum(self.kth, self.outside)

    @cached_property
    def reach(self) -> np.ndarray:
        """Per row ``b``, ``bound[b] / norms[b]``: an article linked to ``b`` in no way (no profile
        overlap, no core term) scores ``b`` at most ``reach[b]`` divided by its own norm."""
        return self.bound / self.norms

    def near_duplicates(self, threshold: float) -> sp.csr_matrix:
        """Pairs of rows with cosine >= ``threshold`` (from the profiles), symmetric CSR (n, n).

        Complete for every row whose :attr:`bound` is below ``threshold``: a near-duplicate of
        such a row is in its profile. Built once per threshold and kept (profiles never change).
        """
        found = self._near_duplicates.get(threshold)
        if found is None:
            rows = self.rows
            close = rows.data >= threshold
            pairs = sp.csr_matrix((np.ones(int(close.sum()), np.int8),
                                   (np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))[close],
                                    rows.indices[close])), shape=rows.shape)
            found = sp.csr_matrix(((pairs + pairs.T) > 0).astype(np.int8))
            found.sort_indices()
            self._near_duplicates[threshold] = found
        return found

    def closest_links(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Each row paired with its ``count`` closest other rows (more on ties): two int64
        arrays of row numbers, ``(row, neighbour)``."""
        rows = self.rows
        kth = _core_stats(rows, count)[0]
        owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        keep = (rows.data >= kth[owner]) & (rows.indices != owner) & (rows.data > 0)
        return owner[keep].astype(np.int64), rows.indices[keep].astype(np.int64)

    # ------------------------------------------------------------------ the core
    def core_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the core threshold (``core``-th largest profile cosine, 0 with fewer) and
        the core norm ``sqrt(1 + |core|^2)``; computed once per profiles object."""
        if self._core_stats is None:
            self._core_stats = _core_stats(self.rows, self.core)
        return self._core_stats

    def core_postings(self) -> sp.csr_matrix:
        """The core part of :attr:`postings`: row ``c`` holds the rows ``b`` whose core holds
        ``c`` (``q_b[c]`` at or above ``b``'s core threshold), and ``q_b[c]``; built once per
        profiles object, a few entries per row."""
        if self._core_postings is None:
            postings, (core_kth, _) = self.postings, self.core_stats()
            keep = postings.data >= core_kth[postings.indices]
            kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
            self._core_postings = sp.csr_matrix((postings.data[keep], postings.indices[keep],
                                                 kept_before[postings.indptr]), shape=postings.shape)
        return self._core_postings

    def core_overlap(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, query_kth: np.ndarray,
                     query_norms: np.ndarray) -> sp.csr_matrix:
        """Core overlap of query profiles (CSR parts, ``k`` rows) with every row: CSR (k, n), float32,
        indices sorted.

        ``core(a) . core(b) / (c_a c_b)``, where a profile's core is its entries at or above
        its core threshold and ``c`` its core norm. Nonzero only where the profiles overlap,
        so it never adds a candidate the profile overlap does not hold. Every path (single
        and batch lists, texts, :meth:`block_scores`) calls this one function: the queries'
        cores times :meth:`core_postings`, one sparse product that sums each pair's shared
        core neighbours in the query's entry order, in float32, so a pair's value is the same
        bit for bit wherever it is computed.
        """
        k, n = len(indptr) - 1, self.n_rows
        if self.core == 0 or len(indices) == 0:
            return sp.csr_matrix((k, n), dtype=np.float32)
        core_kth, core_norms = self.core_stats()
        data = np.asarray(data, np.float32)
        if k == 1:  # one query, a handful of core neighbours: no kernel clearing arrays as wide as the archive
            keep = data >= np.float32(query_kth[0])
            columns, values = _core_sums(np.asarray(indices)[keep], data[keep], self.core_postings())
            values = (values / (np.float32(query_norms[0]) * core_norms[columns])).astype(np.float32)
            return _one_row(columns, values, n)
        owner = np.repeat(np.arange(k), np.diff(indptr))
        keep = data >= np.asarray(query_kth, np.float32)[owner]
        core_indptr = np.searchsorted(owner[keep], np.arange(k + 1))
        found = rows_times(core_indptr, np.asarray(indices)[keep], data[keep], self.core_postings())
        if found is None:
            cores = sp.csr_matrix((data[keep], np.asarray(indices)[keep], core_indptr), shape=(k, n))
            product = cores @ self.core_postings()
            found = product.indptr, product.indices, product.data
        product_indptr, columns, values = found
        lengths = np.diff(product_indptr)
        pair_owner = np.repeat(np.arange(k), lengths)
        order = np.lexsort((columns, pair_owner))  # sorted within each row
        columns, values = columns[order], values[order]
        values = (values / (np.asarray(query_norms, np.float32)[pair_owner] * core_norms[columns])).astype(np.float32)
        return sp.csr_matrix((values, columns, product_indptr), shape=(k, n), copy=False)

    def core_of_rows(self, rows: np.ndarray) -> sp.csr_matrix:
        """:meth:`core_overlap` of indexed ``rows`` with every row."""
        core_kth, core_norms = self.core_stats()
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 1:  # one query: its profile's views, no matrix built
            indices, data = self.row(int(rows[0]))
            return self.core_overlap(np.array([0, len(indices)]), indices, data, core_kth[rows], core_norms[rows])
        selected = self.select(rows)
        return self.core_overlap(selected.indptr, selected.indices, selected.data, core_kth[rows], core_norms[rows])

    def core_of_profile(self, profile: tuple[np.ndarray, np.ndarray]) -> sp.csr_matrix:
        """:meth:`core_overlap` of one profile ``(indices, cosines)`` (a text's) with every row."""
        indices, data = profile
        kth, norm = _core_of(data, self.core)
        return self.core_overlap(np.array([0, len(indices)]), indices, data, np.array([kth]), np.array([norm]))

    # ------------------------------------------------------------------ scoring
    def overlap(self, profiles: sp.csr_matrix) -> sp.csr_matrix:
        """``profiles @ postings``: profile dot products with every row, as CSR (k, n)."""
        indptr, indices, data = self.overlap_parts(profiles)
        return sp.csr_matrix((data, indices, indptr), shape=(profiles.shape[0], self.n_rows), copy=False)

    def overlap_postings(self) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
        """What :meth:`overlap_parts` multiplies by: the base's postings (concepts and rows
        below the base's size) and the corrections since (CSR of shape (n, n), ``None`` for
        none); a row's overlap is its product with the first plus its product with the second."""
        return self._postings, self._delta

    def overlap_parts(self, profiles: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`overlap` as CSR arrays ``(indptr, indices, data)``, columns unordered within a
        row: for one query, checking a scipy matrix built from them costs more than using them."""
        n, n_base = self.n_rows, self._postings.shape[0]
        if n_base == n and self._delta is None:
            found = rows_times(profiles.indptr - profiles.indptr[0], profiles.indices[profiles.indptr[0]:],
                               profiles.data[profiles.indptr[0]:], self._postings)
            if found is not None:
                return found
        base_part = profiles[:, :n_base] if n_base < n else profiles
        product = base_part @ self._postings
        if self._delta is not None:
            if n_base < n:  # widened to every row (scipy checks a matrix it builds: only when needed)
                product = sp.csr_matrix((product.data, product.indices, product.indptr),
                                        shape=(profiles.shape[0], n))
            product = (product + profiles @ self._delta).tocsr()
        return product.indptr, product.indices, product.data

    def anchored(self, cosines: np.ndarray, profile: tuple[np.ndarray, np.ndarray], norm: float,
                 core: sp.csr_matrix | None = None) -> np.ndarray:
        """The anchored score of one query with every row, from its TF-IDF ``cosines``.

        Parameters
        ----------
        cosines : ndarray of shape (n,)
            TF-IDF cosine of the query with every row.
        profile : (indices, cosines)
            The query's own profile (:meth:`row`, or :meth:`newcomer_profile` for a text).
        norm : float
            ``sqrt(1 + |profile|^2)``.
        """
        scores = cosines.astype(np.float32, copy=True)
        indices, data = profile
        if len(indices):
            query = sp.csr_matrix((data, indices, [0, len(indices)]), shape=(1, self.n_rows))
            overlap = self.overlap(query)
            scores[overlap.indices] += overlap.data  # CSR row: each column once
        scores /= np.float32(norm) * self.norms
        if core is not None and core.nnz and self.core_weight:
            scores[core.indices] += self.core_weight * core.data
        return scores

    def for_row(self, row: int, cosines: np.ndarray, core: sp.csr_matrix | None = None) -> np.ndarray:
        """Related scores of an indexed row with every row (``core``: its :meth:`core_of_rows`, if at hand)."""
        core = self.core_of_rows(np.array([row])) if core is None else core
        return self.anchored(cosines, self.row(row), float(self.norms[row]), core)

    def newcomer_profile(self, cosines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The profile of a text that is not indexed: among its top ``m`` rows, those whose
        own top ``m`` it would enter (cosine above their m-th)."""
        top = _top(cosines, self.m)
        keep = top[cosines[top] > self.kth[top]]
        keep.sort()
        return keep.astype(np.int32), cosines[keep].astype(np.float32)

    def for_text(self, cosines: np.ndarray, core: sp.csr_matrix | None = None) -> np.ndarray:
        """Related scores of a text that is not indexed, under the newcomer rule (``core``: its
        :meth:`core_of_profile`, if at hand)."""
        profile = self.newcomer_profile(cosines)
        core = self.core_of_profile(profile) if core is None else core
        return self.anchored(cosines, profile, float(_norm(profile[1])), core)

    def block_scores(self, rows: np.ndarray, cosines: sp.csr_matrix) -> sp.csr_matrix:
        """Anchored scores of indexed ``rows`` with every row, from their TF-IDF ``cosines``
        (CSR, one row per entry of ``rows``): CSR of the same shape."""
        total = sp.csr_matrix(cosines + self.overlap(self.select(rows)))
        total.sort_indices()
        total.data = total.data.astype(np.float32)
        # the same float32 operations, in the same order, as :meth:`anchored`
        total.data /= self.norms[np.repeat(np.asarray(rows), np.diff(total.indptr))] * self.norms[total.indices]
        if self.core_weight:
            core = self.core_of_rows(rows)
            core.data = self.core_weight * core.data
            total = sp.csr_matrix(total + core)  # every core entry is an overlap entry: values add in place
            total.sort_indices()
        return total

    # ------------------------------------------------------------------ growth
    def added(self, cosines_of: Callable[[int], np.ndarray], n_new: int) -> NeighbourProfiles:
        """Profiles after appending ``n_new`` rows; this object is left unchanged.

        Parameters
        ----------
        cosines_of : callable
            ``cosines_of(i)`` returns the TF-IDF cosines of the i-th new row with every row
            before it (existing rows, then earlier new rows), shape (n + i,).
        n_new : int
            How many rows are appended.

        Each new row gets its newcomer profile (:meth:`newcomer_profile`) and enters, in
        order, every earlier row's profile whose m-th cosine it beats: the existing
        profiles stay equal to a recomputation over the grown archive.
        """
        n = self.n_rows
        grown = NeighbourProfiles(self._rows, self.m, self._postings,
                                  kth=np.concatenate([self.kth, np.zeros(n_new, np.float32)]),
                                  norms=np.concatenate([self.norms, np.ones(n_new, np.float32)]),
                                  outside=np.concatenate([self.outside, np.zeros(n_new, np.float32)]),
                                  core=self.core, core_weight=self.core_weight)
        grown._changed = dict(self._changed)
        corrections = list(self._corrections)
        close_pairs: dict[float, list[tuple[np.ndarray, int]]] = {threshold: [] for threshold in self._near_duplicates}
        for i in range(n_new):
            new = n + i
            cosines = np.asarray(cosines_of(i), dtype=np.float32)[:new]
            entering, values = grown.newcomer_profile(cosines)  # read before any m-th cosine moves
            # rows whose top m the newcomer enters: all with cosine above their m-th, not only its own top m
            entered = np.flatnonzero(cosines > grown.kth[:new])
            for row in entered.tolist():
                indices, data = grown.row(row)
                value = cosines[row]
                if len(indices) >= self.m:  # evict the weakest entry (ties: highest row number)
                    weakest = np.lexsort((-indices.astype(np.int64), data))[0]
                    corrections.append((np.array([indices[weakest]]), np.array([row]), np.array([-data[weakest]])))
                    indices, data = np.delete(indices, weakest), np.delete(data, weakest)
                indices, data = np.append(indices, new).astype(np.int32), np.append(data, value).astype(np.float32)
                grown._changed[row] = (indices, data)
                grown.kth[row] = data.min() if len(indices) >= self.m else 0.0
                grown.norms[row] = _norm(data)
            left_out = cosines.copy()
            left_out[entering] = 0
            grown.outside[new] = left_out.max(initial=0.0)
            grown._changed[new] = (entering, values)
            grown.kth[new] = values.min() if len(entering) >= self.m else 0.0
            grown.norms[new] = _norm(values)
            for threshold, found in close_pairs.items():
                found.append((np.flatnonzero(cosines >= threshold), new))
            if entered.size:
                corrections.append((np.full(entered.size, new), entered, cosines[entered]))
            if entering.size:
                corrections.append((entering, np.full(entering.size, new), values))
        grown._corrections = corrections
        for threshold, found in close_pairs.items():  # extend the known near-duplicate pairs, not rebuild them
            others = np.concatenate([rows for rows, _ in found]) if found else np.zeros(0, np.int64)
            news = np.concatenate([np.full(len(rows), new) for rows, new in found]) if found else np.zeros(0, np.int64)
            pairs = sp.csr_matrix((np.ones(2 * len(others), np.int8), (np.r_[others, news], np.r_[news, others])),
                                  shape=(n + n_new, n + n_new))
            extended = sp.csr_matrix(((self._resized(self._near_duplicates[threshold], n + n_new) + pairs) > 0)
                                     .astype(np.int8))
            extended.sort_indices()
            grown._near_duplicates[threshold] = extended
        if self._core_stats is not None:  # carried over: only the rows changed here are computed again
            core_kth, core_norms = (np.concatenate([part, np.full(n_new, fill, np.float32)])
                                    for part, fill in zip(self._core_stats, (0.0, 1.0)))
            for row, profile in grown._changed.items():
                if self._changed.get(row) is not profile:  # changed by this call
                    core_kth[row], core_norms[row] = _core_of(profile[1], self.core)
            grown._core_stats = (core_kth, core_norms)
        size = sum(len(c[0]) for c in corrections)
        if should_fold(size, self._rows.nnz, FOLD_MIN_ENTRIES):
            merged = NeighbourProfiles(grown.rows, self.m, kth=grown.kth, norms=grown.norms, outside=grown.outside,
                                       core=self.core, core_weight=self.core_weight)
            merged._core_stats = grown._core_stats
            merged._near_duplicates = grown._near_duplicates
            return merged
        if corrections:
            concept, row, value = (np.concatenate(part) for part in zip(*corrections))
            total = n + n_new
            grown._delta = sp.csr_matrix((value.astype(np.float32), (concept, row)), shape=(total, total))
        else:
            grown._delta = None
        return grown
