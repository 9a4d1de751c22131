"""The time-proximity prior of the Related score: the topical part decays with the date gap.

Reports of one event are usually published within days of each other; reports of other events
of the same kind are spread over months. With ``time_scale_days`` set, the part of the Related
score that the neighbour profiles add (profile overlap and core) is multiplied by

``f(dt) = floor + (1 - floor) * exp(-(dt / scale)^2 / 2)``

of the two articles' publication gap ``dt`` in days (a Gaussian decay on dates, as Elasticsearch's
``function_score`` ``gauss``), while the article's own words, the anchored cosine
``x_a.x_b / (n_a n_b)``, are never decayed: a follow-up months later with strong textual
evidence still ranks, and two same-kind events far apart lose only their topical bonus.
Equal dates give ``f = 1``, the score unchanged. The measured trade is in ``docs/quality.md``.

Every search path applies :func:`decayed` to the same float32 inputs in the same order, so
lists and :meth:`Recommender.similarity` agree bit for bit.

Pure computation: arrays in, arrays out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TimePrior", "decayed"]

SECONDS_PER_DAY = 86_400.0


class TimePrior(NamedTuple):
    """The decay of this module: ``scale_days`` (> 0) and ``floor`` in [0, 1]."""

    scale_days: float
    floor: float

    def factor(self, query_seconds: np.ndarray | int, seconds: np.ndarray) -> np.ndarray:
        """``f`` of each pair (broadcast) from epoch seconds: float32 in ``[floor, 1]``."""
        gap = (np.asarray(query_seconds, dtype=np.float64) - np.asarray(seconds, dtype=np.float64)) / (
            SECONDS_PER_DAY * self.scale_days)
        return (self.floor + (1.0 - self.floor) * np.exp(-0.5 * gap * gap)).astype(np.float32)


def decayed(scores: np.ndarray, cosines: np.ndarray, norms_product: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """The Related ``scores`` with their topical part (``scores - cosines / norms_product``)
    multiplied by ``factor``; float32, elementwise (any shapes that broadcast)."""
    own = np.asarray(cosines, dtype=np.float32) / np.asarray(norms_product, dtype=np.float32)
    return (own + np.asarray(factor, dtype=np.float32) * (np.asarray(scores, dtype=np.float32) - own)
            ).astype(np.float32)
