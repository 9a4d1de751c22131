"""Batch precomputation: every article's Related list for a whole archive.

How it works
------------
Articles are processed in blocks of ``block_size`` rows. For a block, one sparse product
``vectors[block] @ postings`` gives the cosine of each block article with every article
(scipy's CSR kernel) and, with neighbour profiles, a second one ``profiles[block] @
profile_postings`` turns it into the anchored score (:mod:`recommender.profiles`): the same
arithmetic as a single :meth:`Recommender.related` call, so the lists are identical. Each row's non-zeros then go through the same list builder as
single calls (:func:`recommender.lists.best_distinct`): masking, top-k, near-duplicate
removal, ties by id. Memory per block is bounded by ``block_size`` times the number of
articles a block row shares a term with, never by the square of the archive.

:func:`related_arrays` returns fixed-shape arrays for use in Python;
:func:`recommender.precompute.precompute` writes SQLite and JSONL files for a site.

Pure computation: arrays in, arrays out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .lists import best_distinct
from .persist import Fitted

__all__ = ["block_rows", "related_arrays", "related_block"]


def block_rows(n_rows: int, block_size: int) -> list[np.ndarray]:
    """Row numbers ``0..n_rows-1`` cut into consecutive blocks."""
    return [np.arange(start, min(start + block_size, n_rows)) for start in range(0, n_rows, block_size)]


def related_block(
    state: Fitted, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float
) -> list[list[tuple[int, float]]]:
    """Related lists of ``rows``: for each, up to ``k`` ``(row, score)`` pairs, best first.

    Equal to :meth:`Recommender.related` with default filters, row for row.
    """
    index, catalog = state.index, state.catalog
    cosines = index.product(index.select(rows))
    product = cosines if state.profiles is None else state.profiles.block_scores(rows, cosines)
    scratch = np.zeros(index.n_rows, dtype=np.float32)  # one row's cosines, dense
    lists = []
    for position, row in enumerate(rows):
        start, end = product.indptr[position], product.indptr[position + 1]
        columns, scores = product.indices[start:end], product.data[start:end].copy()
        cosine_start, cosine_end = cosines.indptr[position], cosines.indptr[position + 1]
        scratch[cosines.indices[cosine_start:cosine_end]] = cosines.data[cosine_start:cosine_end]
        duplicate = scratch[columns] >= duplicate_threshold
        scratch[cosines.indices[cosine_start:cosine_end]] = 0
        scores[duplicate | (scores < min_similarity) | (columns == row) | catalog.removed[columns]] = -np.inf
        # the row itself and its near-duplicates are masked above, as in a single related() call
        lists.append(best_distinct(columns.astype(np.int64), scores, index, catalog, k, duplicate_threshold))
    return lists


def related_arrays(
    state: Fitted,
    rows: Sequence[int] | np.ndarray,
    k: int,
    duplicate_threshold: float,
    min_similarity: float,
    *,
    block_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Related lists of many rows as fixed-shape arrays.

    Returns
    -------
    ids : ndarray of object (str), shape (n, k)
        Article ids, best first; ``""`` where a list is shorter than ``k``.
    scores : ndarray of float32, shape (n, k)
        Cosines; ``nan`` where a list is shorter than ``k``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    ids = np.full((len(rows), k), "", dtype=object)
    scores = np.full((len(rows), k), np.nan, dtype=np.float32)
    for start in range(0, len(rows), block_size):
        block = rows[start:start + block_size]
        for offset, hits in enumerate(related_block(state, block, k, duplicate_threshold, min_similarity)):
            for rank, (row, score) in enumerate(hits):
                ids[start + offset, rank] = state.catalog.id(row)
                scores[start + offset, rank] = score
    return ids, scores
