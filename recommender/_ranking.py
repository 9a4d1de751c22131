"""The Ranking list: most popular (or trending) stories now, one copy of each story.

Pure computation: popularity state and catalogue in, :class:`~recommender.Hit` list out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._catalog import Catalog
from ._distinct import best_distinct
from ._hits import Hit
from ._index import CosineIndex
from ._popularity import HOUR, PopularityState

__all__ = ["RankingQuery", "ranking_list", "ranking_window"]


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
    """

    k: int
    now: float
    mode: str
    section_code: int | None
    exclude_rows: np.ndarray
    duplicate_threshold: float


def ranking_window(popularity: PopularityState, catalog: Catalog, now: float) -> np.ndarray:
    """Rows published within the ranking age limit before ``now`` (epoch seconds) with at
    least one reaction: the stories whose popularity counts at ``now`` (removed ones included)."""
    window = catalog.published_between(now - popularity.config.max_age_hours * HOUR, now)
    return window[popularity.totals(window) > 0]


def ranking_list(state: PopularityState, index: CosineIndex, catalog: Catalog, query: RankingQuery) -> list[Hit]:
    """Most popular (or trending) articles at ``query.now``.

    Only articles published within the configured age limit before ``now`` and with at
    least one reaction compete; near-duplicates of a better-placed article are skipped.

    Returns
    -------
    list of Hit
        Up to ``query.k`` hits, best first (ties by id); ``score`` is the popularity score.
    """
    window = ranking_window(state, catalog, query.now)
    if query.section_code is not None:
        window = window[catalog.section_codes[window] == query.section_code]
    window = window[~catalog.removed[window]]
    scores = state.scores(window, catalog.published[window].astype(np.float64), query.now, query.mode)
    hits = []
    for row, score in best_distinct(window, scores, index, catalog, query.k, query.duplicate_threshold, query.exclude_rows):
        if query.mode == "trending":
            explanation = f"trending: {score:.1f}x its usual reaction rate"
        else:
            section = catalog.section(row)
            total = state.totals(np.array([row]))[0]
            explanation = f"popular{' in ' + section if section else ''}: {total:g} weighted reactions"
        hits.append(Hit(catalog.id(row), score, explanation))
    return hits

