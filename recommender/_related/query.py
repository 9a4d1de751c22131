"""What a Related list must honour besides the score: exclusions, near-duplicates, filters.

Pure computation: arrays in, masks out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._catalog import Catalog

__all__ = ["RelatedQuery", "filtered_out", "masked_scores"]


@dataclass(frozen=True, slots=True)
class RelatedQuery:
    """What a Related list must honour besides similarity.

    Parameters
    ----------
    k : int
    exclude_rows : ndarray of int
        Rows that may not appear, nor their near-duplicates (the article itself, ids the
        caller excluded, stories already on the page).
    duplicate_threshold : float
        Cosine at or above which two articles count as the same story.
    min_similarity : float
        Cosine below which an article is not related at all.
    section_code : int or None
        With ``same_section=True`` only this section, with ``False`` every other one.
    same_section : bool or None
    published : int or None
        Query time in epoch seconds, for ``max_age_seconds``.
    max_age_seconds : int or None
        Largest allowed distance in publication time from ``published``.
    explain_terms : int
        How many shared terms to attach to each hit (0 for none).
    query_row : int or None
        The query's own row, if indexed: masked (its near-duplicates are already masked by
        ``duplicate_threshold``).
    hidden : ndarray of bool, shape (n_rows,), or None
        Rows the list may not show at its ``now`` (embargo, blocks, eligibility rules; see
        :mod:`recommender._visibility`); unlike ``exclude_rows``, their near-duplicates may show.
    language_code : int or None
        Only rows in this language (a catalogue code; ``None``: any language).
    """

    k: int
    exclude_rows: np.ndarray
    duplicate_threshold: float
    min_similarity: float = 0.0
    section_code: int | None = None
    same_section: bool | None = None
    published: int | None = None
    max_age_seconds: int | None = None
    explain_terms: int = 3
    query_row: int | None = None
    hidden: np.ndarray | None = None
    language_code: int | None = None


def filtered_out(catalog: Catalog, query: RelatedQuery) -> np.ndarray | None:
    """Rows the query's section, age and language filters and its ``hidden`` mask rule out
    (boolean over every row), or ``None`` when it has none of them."""
    out = query.hidden
    if query.language_code is not None:
        other = catalog.other_language(query.language_code)  # cached: no work per query
        out = other if out is None else out | other
    if query.same_section is not None:
        in_section = catalog.section_codes == query.section_code
        section_out = ~in_section if query.same_section else in_section
        out = section_out if out is None else out | section_out
    if query.max_age_seconds is not None and query.published is not None:
        too_far = np.abs(catalog.published - query.published) > query.max_age_seconds
        out = too_far if out is None else out | too_far
    return out


def masked_scores(scores: np.ndarray, cosines: np.ndarray, catalog: Catalog, query: RelatedQuery) -> np.ndarray:
    """``scores`` with every row the query rules out set to ``-inf`` (a copy)."""
    scores = scores.copy()
    scores[(cosines >= query.duplicate_threshold) | (cosines < query.min_similarity)] = -np.inf
    scores[query.exclude_rows] = -np.inf
    if catalog.any_removed:
        scores[catalog.removed] = -np.inf
    if query.query_row is not None:
        scores[query.query_row] = -np.inf
    out = filtered_out(catalog, query)
    if out is not None:
        scores[out] = -np.inf
    return scores
