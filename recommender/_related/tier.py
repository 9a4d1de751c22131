"""The story tier: which Related hits report the same event as the query, and which are only related.

A site can show "More on this story" apart from "Related". A hit is marked ``"story"`` when

* its TF-IDF cosine with the query is at least :data:`STORY_COSINE` (the two texts share most of
  their weighted words: another outlet's take, a follow-up), or
* its cosine is at least :data:`STORY_MIN_COSINE` and its core overlap
  (:meth:`~recommender._profiles.NeighbourProfiles.core_overlap`: the two articles' closest
  neighbours coincide) is at least :data:`STORY_CORE_OVERLAP`,

and ``"related"`` otherwise. Near-duplicates (republished copies) never reach a list. The
thresholds and what they measure on real multi-outlet news are in ``docs/quality.md``.

Pure computation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["RELATED", "STORY", "STORY_CORE_OVERLAP", "STORY_COSINE", "STORY_MIN_COSINE", "story_tiers"]

STORY, RELATED = "story", "related"

STORY_COSINE = 0.4
"""Cosine from which a hit is the same story on its own."""

STORY_MIN_COSINE = 0.25
"""Cosine from which a hit is the same story when the core overlap agrees."""

STORY_CORE_OVERLAP = 0.2
"""Core overlap from which a hit with at least ``STORY_MIN_COSINE`` is the same story."""


def story_tiers(core: sp.csr_matrix | None, hits: Sequence[int]) -> Callable[[np.ndarray], list[str]]:
    """The tier rule for ``hits`` (rows) of one query whose core overlap row is ``core``
    (``None`` for a model without profiles): a function of the hits' cosines with the query."""
    values = np.zeros(len(hits), np.float32)
    if core is not None and core.nnz and len(hits):
        where = np.searchsorted(core.indices, hits)  # one CSR row, sorted
        found = (where < core.nnz) & (core.indices[np.minimum(where, core.nnz - 1)] == np.asarray(hits))
        values[found] = core.data[where[found]]

    def tiers(cosines: np.ndarray) -> list[str]:
        story = (cosines >= STORY_COSINE) | ((cosines >= STORY_MIN_COSINE) & (values >= STORY_CORE_OVERLAP))
        return [STORY if marked else RELATED for marked in story.tolist()]

    return tiers
