"""The story tier: which Related hits report the same event as the query, and which are only related.

A site can show "More on this story" apart from "Related". A hit is marked ``"story"`` when

* its TF-IDF cosine with the query is at least :data:`STORY_COSINE` (the two texts share most of
  their weighted words: another outlet's take, a follow-up), or
* its cosine is at least :data:`STORY_MIN_COSINE` and its core overlap (:meth:`NeighbourProfiles.core_overlap`:
  the two articles' closest neighbours coincide) is at least :data:`STORY_CORE_OVERLAP`,

and ``"related"`` otherwise. Near-duplicates (republished copies) never reach a list. The
thresholds and what they measure on real multi-outlet news are in ``docs/quality.md``.

Pure computation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .._state import ModelState

__all__ = ["RELATED", "STORY", "STORY_CORE_OVERLAP", "STORY_COSINE", "STORY_MIN_COSINE", "tiers_for_row",
           "tiers_for_text"]

STORY, RELATED = "story", "related"

STORY_COSINE = 0.4
"""Cosine from which a hit is the same story on its own."""

STORY_MIN_COSINE = 0.25
"""Cosine from which a hit is the same story when the core overlap agrees."""

STORY_CORE_OVERLAP = 0.2
"""Core overlap from which a hit with at least ``STORY_MIN_COSINE`` is the same story."""


def _tiers(cosines: np.ndarray, core: np.ndarray) -> list[str]:
    story = (cosines >= STORY_COSINE) | ((cosines >= STORY_MIN_COSINE) & (core >= STORY_CORE_OVERLAP))
    return [STORY if marked else RELATED for marked in story.tolist()]


def _lookup(row_matrix: sp.csr_matrix, columns: np.ndarray) -> np.ndarray:
    """Values of a one-row CSR matrix at ``columns`` (0 where it holds none)."""
    dense = dict(zip(row_matrix.indices.tolist(), row_matrix.data.tolist()))
    return np.array([dense.get(column, 0.0) for column in columns.tolist()], dtype=np.float32)


def tiers_for_row(state: ModelState, row: int, hits: Sequence[int]) -> list[str]:
    """Tiers of the ``hits`` (rows) of indexed ``row``'s Related list."""
    hits = np.asarray(hits, dtype=np.int64)
    if not len(hits):
        return []
    cosines = state.index.pair_cosines(np.full(len(hits), row, dtype=np.int64), hits)
    core = (_lookup(state.profiles.core_of_rows(np.array([row])), hits) if state.profiles is not None
            else np.zeros(len(hits), np.float32))
    return _tiers(cosines, core)


def tiers_for_text(state: ModelState, vector: sp.csr_matrix, hits: Sequence[int]) -> list[str]:
    """Tiers of the ``hits`` (rows) of a text's Related list (its TF-IDF ``vector``)."""
    hits = np.asarray(hits, dtype=np.int64)
    if not len(hits):
        return []
    all_cosines = state.index.scores(vector)
    core = np.zeros(len(hits), np.float32)
    if state.profiles is not None:
        core = _lookup(state.profiles.core_of_profile(state.profiles.newcomer_profile(all_cosines)), hits)
    return _tiers(all_cosines[hits], core)
