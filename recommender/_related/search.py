"""How a Related list is searched: the strategy, resolved in one place, for single and batch calls.

Strategies
----------
``"full"``
    Score the query against every article that shares a term with it (:mod:`.full`). Exact;
    its cost grows with the archive. The only strategy for a model without neighbour profiles
    (``neighbours=0``) and for a text that is not indexed.
``"profiles"``
    Build the list from the neighbour profiles' candidates and exact score bounds
    (:mod:`.pruned`); rows the bounds cannot settle, and calls with ``exclude`` (whose
    near-duplicates must be ruled out too), take the full product. Lists are equal to
    ``"full"`` bit for bit, scores included. Needs profiles.
``"auto"`` (default)
    ``"profiles"`` when the model has profiles and, on this platform, the cosines the pruned
    path reads equal the full product's bit for bit (:func:`kernels_agree`: a compiler may
    fuse multiply-adds in one kernel and not another); ``"full"`` otherwise.

:func:`resolve_strategy` turns the option into the method a call runs, the way scikit-learn
resolves ``algorithm=`` into ``_fit_method``.

Pure computation: model state in, ``(row, score)`` lists out.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._state import ModelState
from ..exceptions import InvalidOptionError
from .full import full_list, full_lists, row_scores
from .pruned import pruned_lists
from .query import RelatedQuery, filtered_out
from .time_prior import TimePrior, decayed_pairs

__all__ = ["STRATEGIES", "Found", "block_rows", "prepare_search", "related_arrays", "related_block", "related_rows",
           "related_text_rows", "resolve_strategy", "similarity_matrix"]

STRATEGIES = ("auto", "profiles", "full")

KERNEL_PROBE_ROWS = 8
"""Rows on which :func:`kernels_agree` compares the pruned path's cosines with the full product's."""

_kernel_verdicts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # profiles object -> bool


def kernels_agree(state: ModelState) -> bool:
    """Whether the cosines the pruned path reads (profiles, :meth:`CosineIndex.pair_cosines`)
    equal the full product's bit for bit on this platform; checked once per profiles object
    on a few rows."""
    profiles, index = state.profiles, state.index
    verdict = _kernel_verdicts.get(profiles)
    if verdict is None:
        verdict = True
        sample = min(KERNEL_PROBE_ROWS, profiles.n_rows)
        for row in np.linspace(0, profiles.n_rows - 1, sample).astype(np.int64).tolist():
            columns, cosines = profiles.row(row)
            full = index.scores(index.row_vector(row))
            pairs = index.pair_cosines(np.full(len(columns), row), columns)
            verdict &= bool(np.array_equal(full[columns], cosines) and np.array_equal(pairs, cosines))
        _kernel_verdicts[profiles] = verdict
    return verdict


def prepare_search(state: ModelState) -> None:
    """Build what the first Related search of ``state`` would otherwise build on its way: the
    kernel check and the profiles' core statistics and core postings (about 0.3 s at 100k
    articles, kept per profiles object). A server calls it on a newly loaded version before
    it answers from it."""
    if state.profiles is not None:
        resolve_strategy("auto", state)
        state.profiles.core_postings()


def resolve_strategy(strategy: str, state: ModelState) -> str:
    """The method a Related search runs, ``"profiles"`` or ``"full"``, for option ``strategy``.

    Raises
    ------
    InvalidOptionError
        An unknown strategy, or ``"profiles"`` on a model without neighbour profiles.
    """
    if strategy not in STRATEGIES:
        raise InvalidOptionError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))}, got {strategy!r}")
    if strategy == "full":
        return "full"
    if state.profiles is None:
        if strategy == "profiles":
            raise InvalidOptionError("strategy='profiles' needs neighbour profiles; fit with neighbours > 0 "
                                     "or use strategy='auto'")
        return "full"
    if strategy == "profiles" or kernels_agree(state):
        return "profiles"
    return "full"


class Found(NamedTuple):
    """A Related list: ``hits``, up to ``k`` ``(row, score)`` pairs best first, and the query's
    ``core`` overlap with every row (one CSR row; ``None`` without profiles), for the story tier."""

    hits: list[tuple[int, float]]
    core: sp.csr_matrix | None


def related_rows(state: ModelState, row: int, query: RelatedQuery, strategy: str,
                 prior: TimePrior | None = None) -> Found:
    """The Related list of indexed ``row`` (``prior``: the time-proximity prior, if any)."""
    profiles = state.profiles
    core = profiles.core_of_rows(np.array([row])) if profiles is not None else None  # once per query
    if resolve_strategy(strategy, state) == "profiles" and not len(query.exclude_rows):
        k = min(query.k, state.index.n_rows)
        chosen = pruned_lists(state, np.array([row], dtype=np.int64), k, query.duplicate_threshold,
                              query.min_similarity, filtered_out(state.catalog, query), core, prior)[0]
        if chosen is not None:
            return Found(chosen, core)
    return Found(full_list(state, *row_scores(state, row, prior, core), query), core)


def related_text_rows(state: ModelState, vector: sp.csr_matrix, query: RelatedQuery) -> Found:
    """The Related list of a text that is not indexed (its TF-IDF ``vector``): always the full product."""
    cosines = state.index.scores(vector)
    if state.profiles is None:
        return Found(full_list(state, cosines, cosines, query), None)
    core = state.profiles.core_of_profile(state.profiles.newcomer_profile(cosines))
    return Found(full_list(state, state.profiles.for_text(cosines, core), cosines, query), core)


def similarity_matrix(state: ModelState, rows: np.ndarray, columns: np.ndarray,
                      prior: TimePrior | None = None) -> np.ndarray:
    """The Related score between indexed ``rows`` and ``columns``: dense float32 (len(rows), len(columns))."""
    cosines = state.index.product(state.index.select(rows))
    if state.profiles is None:
        return cosines[:, columns].toarray().astype(np.float32)
    scores = state.profiles.block_scores(rows, cosines)[:, columns].toarray().astype(np.float32)
    return decayed_pairs(state, prior, scores, cosines[:, columns].toarray().astype(np.float32), rows[:, None],
                         columns[None, :])


def block_rows(n_rows: int, block_size: int) -> list[np.ndarray]:
    """Row numbers ``0..n_rows-1`` cut into consecutive blocks."""
    return [np.arange(start, min(start + block_size, n_rows)) for start in range(0, n_rows, block_size)]


def related_block(
    state: ModelState, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float,
    strategy: str = "auto", hidden: np.ndarray | None = None, cross_language: bool = False,
    prior: TimePrior | None = None,
) -> list[list[tuple[int, float]]]:
    """Related lists of ``rows`` with default filters, never showing the ``hidden`` rows
    (boolean over every row: embargo, blocks, eligibility): for each, up to ``k`` ``(row,
    score)`` pairs, best first; equal to :func:`related_rows` row for row. Without
    ``cross_language`` each row's list holds only rows of its language (the rows are searched
    language by language)."""
    rows = np.asarray(rows, dtype=np.int64)
    catalog = state.catalog
    if cross_language or catalog.one_language:
        return _block(state, rows, k, duplicate_threshold, min_similarity, strategy, hidden, prior)
    codes = catalog.language_codes[rows]
    lists: list = [None] * len(rows)
    for code in np.unique(codes).tolist():
        where = np.flatnonzero(codes == code)
        other = catalog.other_language(code)
        found = _block(state, rows[where], k, duplicate_threshold, min_similarity, strategy,
                       other if hidden is None else other | hidden, prior)
        for position, hits in zip(where.tolist(), found):
            lists[position] = hits
    return lists


def _block(state: ModelState, rows: np.ndarray, k: int, duplicate_threshold: float, min_similarity: float,
           strategy: str, filtered_out: np.ndarray | None,
           prior: TimePrior | None = None) -> list[list[tuple[int, float]]]:
    k = min(k, state.index.n_rows)  # no list is longer than the archive (and k may be any int)
    if resolve_strategy(strategy, state) == "full":
        return full_lists(state, rows, k, duplicate_threshold, min_similarity, filtered_out, prior)
    lists = pruned_lists(state, rows, k, duplicate_threshold, min_similarity, filtered_out, prior=prior)
    unsettled = [position for position, hits in enumerate(lists) if hits is None]
    if unsettled:
        for position, hits in zip(unsettled, full_lists(state, rows[unsettled], k, duplicate_threshold,
                                                        min_similarity, filtered_out, prior)):
            lists[position] = hits
    return lists


def related_arrays(
    state: ModelState,
    rows: Sequence[int] | np.ndarray,
    k: int,
    duplicate_threshold: float,
    min_similarity: float,
    *,
    block_size: int = 256,
    strategy: str = "auto",
    hidden: np.ndarray | None = None,
    cross_language: bool = False,
    prior: TimePrior | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Related lists of many rows as fixed-shape arrays, never showing the ``hidden`` rows, each
    in its own language unless ``cross_language``.

    Returns
    -------
    ids : ndarray of object (str), shape (n, k)
        Article ids, best first; ``""`` where a list is shorter than ``k``.
    scores : ndarray of float32, shape (n, k)
        Related scores (as :meth:`Recommender.related`); ``nan`` where a list is shorter than ``k``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    ids = np.full((len(rows), k), "", dtype=object)
    scores = np.full((len(rows), k), np.nan, dtype=np.float32)
    for start in range(0, len(rows), block_size):
        block = rows[start:start + block_size]
        lists = related_block(state, block, k, duplicate_threshold, min_similarity, strategy, hidden, cross_language,
                              prior)
        line = np.repeat(np.arange(start, start + len(block)), [len(hits) for hits in lists])
        rank = np.concatenate([np.arange(len(hits)) for hits in lists]) if len(line) else line
        hit_rows = [row for hits in lists for row, _ in hits]
        ids[line, rank] = state.catalog.ids_of(hit_rows)
        scores[line, rank] = [score for hits in lists for _, score in hits]
    return ids, scores
