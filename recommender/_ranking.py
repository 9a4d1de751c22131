"""The Ranking list: most popular (or trending) stories now, one copy of each story.

Pure computation: popularity state and catalogue in, :class:`~recommender.Hit` list out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._catalog import Catalog
from ._distinct import best_distinct, by_score_then_id
from ._hits import Hit
from ._index import CosineIndex, top_rows
from ._kept import KeptPerOwner
from ._popularity import HOUR, PopularityState
from ._profiles import NeighbourProfiles

__all__ = ["TRENDING_FROM", "RankingQuery", "explanations", "ranked", "ranking_list", "ranking_window"]


@dataclass(frozen=True, slots=True)
class RankingQuery:
    """What a Ranking list must honour.

    Parameters
    ----------
    k : int
    now : float
        Epoch seconds.
    mode : {"popular", "trending"}
    section_code : int or None
        Only this section when given.
    exclude_rows : ndarray of int
        Rows that may not appear, nor their near-duplicates.
    duplicate_threshold : float
    hidden : ndarray of bool, shape (n_rows,), or None
        Rows that may not appear (embargo, blocks, eligibility: :mod:`recommender._visibility`).
    """

    k: int
    now: float
    mode: str
    section_code: int | None
    exclude_rows: np.ndarray
    duplicate_threshold: float
    hidden: np.ndarray | None = None


def ranking_window(popularity: PopularityState, catalog: Catalog, now: float) -> np.ndarray:
    """Rows published within the ranking age limit before ``now`` (epoch seconds) with at
    least one reaction: the stories whose popularity counts at ``now`` (removed ones included)."""
    window = catalog.published_between(now - popularity.config.max_age_hours * HOUR, now)
    return window[popularity.totals(window) > 0]


def ranking_list(state: PopularityState, index: CosineIndex, catalog: Catalog, query: RankingQuery,
                 profiles: NeighbourProfiles | None = None) -> list[Hit]:
    """Most popular (or trending) articles at ``query.now``.

    Only articles published within the configured age limit before ``now`` and with at
    least one reaction compete; near-duplicates of a better-placed article are skipped.

    Returns
    -------
    list of Hit
        Up to ``query.k`` hits, best first (ties by id); ``score`` is the popularity score.

    With ``profiles``, near-duplicates are looked up in their near-duplicate pairs where those
    are complete (:func:`~recommender._distinct.best_distinct`), not computed.
    """
    return ranked(state, index, catalog, query, profiles)[0]


def ranked(state: PopularityState, index: CosineIndex, catalog: Catalog, query: RankingQuery,
           profiles: NeighbourProfiles | None = None) -> tuple[list[Hit], np.ndarray]:
    """:func:`ranking_list` and the hits' rows (int64, in list order), for a page's later lists."""
    if query.hidden is None:
        window, scores, n_ordered = scored_window(state, catalog, query.now, query.mode, query.section_code)
    else:  # a fresh mask each call: nothing to keep
        window, scores, n_ordered = _scored(state, catalog, query.now, query.mode, query.section_code, query.hidden)
    chosen = best_distinct(window, scores, index, catalog, query.k, query.duplicate_threshold, query.exclude_rows,
                           profiles, n_ordered=n_ordered)
    rows = np.array([row for row, _ in chosen], dtype=np.int64)
    texts = explanations(state, catalog, rows, np.array([score for _, score in chosen]), query)
    return [Hit(score=float(score), explanation=text, **card)
            for (_, score), text, card in zip(chosen, texts, catalog.display(rows))], rows


ORDERED_ROWS = 256
"""Best rows :func:`_scored` puts first in list order (the rest follow unordered): more than
a list walks unless exclusions and near-duplicates empty it."""


def _scored(state: PopularityState, catalog: Catalog, now: float, mode: str, section_code: int | None,
            hidden: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows competing at ``now`` (the window, in one section, without removed or hidden
    rows) with a positive score, their scores (the site mean a score is smoothed toward is
    taken over every competing row), and how many of them come first in list order (best
    first, ties by article id: the :data:`ORDERED_ROWS` best and the rows tied with the last)."""
    window = ranking_window(state, catalog, now)
    if section_code is not None:
        window = window[catalog.section_codes[window] == section_code]
    window = window[~catalog.removed[window]]
    if hidden is not None:
        window = window[~hidden[window]]
    scores = state.scores(window, catalog.published[window].astype(np.float64), now, mode)
    positive = scores > 0
    window, scores = window[positive], scores[positive]
    best = top_rows(scores, ORDERED_ROWS)
    best = best[by_score_then_id(window[best], scores[best], catalog)]
    rest = np.ones(len(scores), dtype=bool)
    rest[best] = False
    order = np.concatenate([best, np.flatnonzero(rest)])
    return window[order], scores[order], len(best)


KEPT_WINDOWS = 8
"""Scored windows kept per popularity state (moments, modes and sections asked last)."""

_scored_windows = KeptPerOwner(KEPT_WINDOWS)  # popularity state -> {key: (catalog, *_scored)}


def scored_window(state: PopularityState, catalog: Catalog, now: float, mode: str,
                  section_code: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`_scored` with nothing hidden, kept for the last :data:`KEPT_WINDOWS` questions
    asked of each popularity state: a state and its catalogue never change, so neither do the
    scores and their order at one moment, and the lists of every page served at that moment
    share them. The arrays are read-only."""
    key = (id(catalog), float(now), mode, section_code)
    found = _scored_windows.get(state, key)
    if found is not None and found[0] is catalog:
        return found[1:]
    window, scores, n_ordered = _scored(state, catalog, now, mode, section_code, None)
    window.flags.writeable = False
    scores.flags.writeable = False
    _scored_windows.put(state, key, (catalog, window, scores, n_ordered))
    return window, scores, n_ordered


def explanations(state: PopularityState, catalog: Catalog, rows: np.ndarray, scores: np.ndarray,
                 query: RankingQuery) -> list[str]:
    """Why each of ``rows`` is on the list, stating the figure that orders it.

    * popular (exponential decay): the decayed reaction mass the score uses ("36 recent
      reactions": each reaction counts half after ``half_life_hours``, a quarter after twice
      that) and the smoothed rate it is ordered by ("about 4.2 an hour");
    * popular (gravity decay): the weighted reactions and the age they are divided by;
    * trending: how the story's recent rate compares with its own usual rate ("trending" from
      :data:`TRENDING_FROM` times it, "slowing" below its inverse, "steady" between).
    """
    if not len(rows):
        return []
    masses = state.masses_at(rows, query.now)
    ages = np.maximum(query.now - catalog.published[rows].astype(np.float64), 0.0) / HOUR
    texts = []
    for position, row in enumerate(rows.tolist()):
        section = catalog.section(row)
        where = f" in {section}" if section else ""
        score = float(scores[position])
        if query.mode == "trending":
            if score >= TRENDING_FROM:
                texts.append(f"trending{where}: reactions {score:.1f}x as fast as usual for it")
            elif score > 1 / TRENDING_FROM:
                texts.append(f"steady{where}: reactions at its usual pace")
            else:
                texts.append(f"slowing{where}: reactions at {score:.0%} of its usual pace")
        elif state.config.decay == "gravity":
            texts.append(f"popular{where}: {_count(masses[position, 3])} reactions in {_hours(ages[position])}")
        else:
            mass = masses[position, 0]
            recent = f"{_count(mass)} recent reactions" if mass >= 1 else "under one recent reaction"
            texts.append(f"popular{where}: {recent}, about {_rate(score)} an hour")
    return texts


TRENDING_FROM = 1.05
"""Trending ratio from which a story is said to be trending (below it: its usual pace or slower)."""


def _count(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _rate(value: float) -> str:
    return f"{value:.2g}" if value < 10 else f"{value:,.0f}"


def _hours(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
