"""Why a hit is on a list: the terms it shares with the query that weigh most.

Pure computation: arrays in, strings out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from ._catalog import Catalog
from ._hits import Hit
from ._index import CosineIndex, RowTerms, query_weights_at

__all__ = ["explained_hits", "shared_terms", "shared_terms_of"]


def _query_products(query: sp.csr_matrix | RowTerms, index: CosineIndex, rows: Sequence[int],
                    n_terms: int) -> tuple[np.ndarray, ...]:
    """Each of ``rows``' terms: its row position, term and float32 product with the query's
    weight (the query given by its own non-zeros: a matrix row or :class:`RowTerms`)."""
    lengths, indices, data = index.gather(np.asarray(rows, dtype=np.int64))
    return np.repeat(np.arange(len(rows)), lengths), indices, query_weights_at(query, indices, n_terms) * data


def shared_terms(rows: Sequence[int], terms: np.ndarray, n: int,
                 products: tuple[np.ndarray, ...]) -> list[tuple[str, ...]]:
    """For each of ``rows``, the ``n`` terms contributing most to its dot product with a
    query, from its ``products`` (see :func:`_query_products`); ties by term order."""
    if n <= 0 or not len(rows):
        return [()] * len(rows)
    owner, indices, products = products
    shared = np.flatnonzero(products > 0)
    order = shared[np.lexsort((indices[shared], -products[shared], owner[shared]))]
    owners = owner[order]
    rank = np.arange(len(order)) - np.searchsorted(owners, owners)  # place within its row
    best = order[rank < n]
    found: list[list[str]] = [[] for _ in rows]
    for row_position, word in zip(owner[best].tolist(), terms[indices[best]].tolist()):
        found[row_position].append(str(word))
    return [tuple(words) for words in found]


def shared_terms_of(query: sp.csr_matrix | RowTerms, index: CosineIndex, rows: Sequence[int], terms: np.ndarray,
                    n: int) -> list[tuple[str, ...]]:
    """:func:`shared_terms` of ``rows`` with a query given by its own non-zeros (a matrix row
    or an indexed row's :class:`RowTerms`), without a dense vector of every term."""
    if n <= 0 or not len(rows):
        return [()] * len(rows)
    return shared_terms(rows, terms, n, _query_products(query, index, rows, len(terms)))


def explained_hits(chosen: list[tuple[int, float]], query_vector: sp.csr_matrix | RowTerms, index: CosineIndex,
                   catalog: Catalog, terms: np.ndarray, explain_terms: int,
                   tier_of: Callable[[np.ndarray], list[str]] | None = None) -> list[Hit]:
    """Hits for chosen ``(row, score)`` pairs, each explained by the terms it shares with the
    query (``query_vector``: a one-row matrix, or an indexed row's :class:`RowTerms`).

    ``tier_of`` maps the hits' TF-IDF cosines with the query (computed here from the same
    products as the explanations, so no second pass) to their story tiers.
    """
    rows = [row for row, _ in chosen]
    explained: list[tuple[str, ...]] = [()] * len(rows)
    tiers = [""] * len(rows)
    if rows and (explain_terms or tier_of is not None):
        products = _query_products(query_vector, index, rows, len(terms))
        explained = shared_terms(rows, terms, explain_terms, products)
        if tier_of is not None:
            tiers = tier_of(np.bincount(products[0], weights=products[2], minlength=len(rows)))
    return [Hit(score=float(score), explanation=f"shares {', '.join(words)}" if words else "similar text",
                terms=words, tier=tier, **card)
            for card, (_, score), words, tier in zip(catalog.display(rows), chosen, explained, tiers)]
