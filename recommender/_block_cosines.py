"""Cosines of a few candidate rows with each other, one candidate at a time.

How it works
------------
A diversity walk (:mod:`recommender._recommend`) picks about ``k`` of a few dozen candidates
and needs, after each pick, the pick's cosine with every candidate: ``k`` rows of the
candidates' pair matrix, never the whole matrix. :class:`BlockCosines` gathers the
candidates' terms once, with their postings (for each term, the candidates holding it);
:meth:`BlockCosines.of` then reads the postings of one candidate's terms and adds each
candidate's products with it in float32, one after the other in term order: the same order,
so the same bits, as :meth:`CosineIndex.pair_scores` and :meth:`CosineIndex.scores` (scipy's
sparse product).

A pick costs time proportional to how many candidates share its terms, not to the
candidates' non-zeros, and no sparse product is built.

Pure computation: index and rows in, arrays out.
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp

from ._index import CosineIndex

__all__ = ["BlockCosines"]

_scratch = threading.local()


def _slots(n_terms: int) -> np.ndarray:
    """This thread's term-to-slot scratch of at least ``n_terms`` entries, allocated once per
    thread; never cleared, as only the slots a call has just written are read back."""
    slots = getattr(_scratch, "slots", None)
    if slots is None or len(slots) < n_terms:
        slots = _scratch.slots = np.zeros(n_terms, dtype=np.int32)
    return slots


class BlockCosines:
    """The cosines of each of ``rows`` with all of them, row by row on demand.

    Parameters
    ----------
    index : CosineIndex
    rows : ndarray of int, shape (n,)
        Indexed rows (distinct).
    """

    def __init__(self, index: CosineIndex, rows: np.ndarray) -> None:
        lengths, indices, self._data = index.gather(np.asarray(rows, dtype=np.int64))
        self._ends = np.cumsum(lengths)
        self._starts = self._ends - lengths
        # Renumber the terms without sorting (every occurrence of a term reads back the slot
        # written last for it), then list, for each slot, the rows holding it: the block's
        # postings, built by scipy's transpose in C.
        slot = _slots(index.n_terms)
        slot[indices] = np.arange(len(indices), dtype=np.int32)
        self._slots = slot[indices]
        indptr = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=indptr[1:])
        postings = sp.csr_matrix((self._data, self._slots, indptr), shape=(len(lengths), max(len(indices), 1))).tocsc()
        self._postings_indptr, self._postings_rows, self._postings_data = \
            postings.indptr, postings.indices, postings.data

    def of(self, position: int) -> np.ndarray:
        """Cosine of row ``rows[position]`` with each of ``rows``: float32 of shape (n,).

        Equal bit for bit to row ``position`` of ``index.pair_scores(rows)``: each row's
        products with the picked row are added one after the other in term order.
        """
        start, end = int(self._starts[position]), int(self._ends[position])
        slots, values = self._slots[start:end], self._data[start:end]
        firsts = self._postings_indptr[slots]
        counts = self._postings_indptr[slots + 1] - firsts
        at = np.repeat(firsts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        totals = np.zeros(len(self._starts), dtype=np.float32)
        np.add.at(totals, self._postings_rows[at], np.repeat(values, counts) * self._postings_data[at])
        return totals
