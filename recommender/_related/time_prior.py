"""The time-proximity prior of the Related score: the topical part decays with the date gap.

Reports of one event are usually published within days of each other; reports of other events
of the same kind are spread over months. With the prior on, the part of the Related score that
the neighbour profiles add (profile overlap and core) is multiplied by

``f(dt) = floor + (1 - floor) * exp(-(dt / scale)^2 / 2)``

of the two articles' publication gap ``dt`` in days (a Gaussian decay on dates, as Elasticsearch's
``function_score`` ``gauss``), while the article's own words, the anchored cosine
``x_a.x_b / (n_a n_b)``, are never decayed: a follow-up months later with strong textual
evidence still ranks, and two same-kind events far apart lose only their topical bonus.
Equal dates give ``f = 1``, the score unchanged. The measured trade is in ``docs/quality.md``.

When is it on? (``time_scale_days="auto"``, the default.) The prior helps only where the
publication dates are real: on dates that carry no signal (an imported archive stamped with its
import day, dates drawn at random) it hands a topical bonus to whatever was published the same
day and costs same-event precision. So a fit measures whether the archive's own dates predict
its neighbours (:func:`recommender._time_locality.time_locality`): the share of each article's closest neighbours published
within ``AUTO_SCALE_DAYS`` of it, against the share of all pairs that are. The prior is on, at
``AUTO_SCALE_DAYS``, when neighbours are time-local beyond chance (:func:`auto_scale`); a
number switches it on at that scale whatever the archive, ``None`` switches it off.

Every search path applies :func:`decayed` to the same float32 inputs in the same order, so
lists and :meth:`Recommender.similarity` agree bit for bit.

Pure computation: arrays in, arrays out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._state import ModelState
from .._time_locality import SECONDS_PER_DAY, Locality

__all__ = ["AUTO_SCALE_DAYS", "TimePrior", "auto_scale", "decayed", "decayed_pairs", "resolved_scale"]

AUTO_SCALE_DAYS = 2.0
"""The prior's scale when ``time_scale_days="auto"`` turns it on, and the window in which a fit
measures how time-local the archive's neighbours are."""

MIN_EXCESS = 0.05
"""Least share of close neighbours that are time-local beyond chance for the automatic prior.
Measured: real dates give 0.10-0.22 on news corpora (0.13 on Reuters' 1987 newswire), dates drawn at random
-0.03-0.0."""

MIN_Z = 4.0
"""Least binomial z-score of that excess (a small archive must show it beyond sampling noise)."""


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


def auto_scale(locality: Locality) -> float | None:
    """The prior's scale for ``time_scale_days="auto"``: :data:`AUTO_SCALE_DAYS` where the
    archive's neighbours are time-local beyond chance, ``None`` (off) elsewhere."""
    return AUTO_SCALE_DAYS if locality.excess >= MIN_EXCESS and locality.z >= MIN_Z else None


def decayed_pairs(state: ModelState, prior: TimePrior | None, scores: np.ndarray, cosines: np.ndarray,
                  rows: np.ndarray | int, columns: np.ndarray) -> np.ndarray:
    """The Related ``scores`` of pairs ``(rows, columns)`` (indices that broadcast) with the
    prior applied by :func:`decayed`; unchanged without a prior. Every search path calls this
    (or :func:`decayed` on the same inputs), so they agree bit for bit."""
    if prior is None:
        return scores
    norms, published = state.profiles.norms, state.catalog.published
    return decayed(scores, cosines, norms[rows] * norms[columns], prior.factor(published[rows], published[columns]))


def resolved_scale(option: float | str | None, state: ModelState) -> float | None:
    """The prior's scale in days for option ``time_scale_days`` on a fitted ``state``
    (``"auto"``: :func:`auto_scale` of the fit's measured locality; off for a model without
    neighbour profiles or saved before the locality was measured)."""
    if option == "auto":
        return None if state.profiles is None or state.time_locality is None else auto_scale(state.time_locality)
    return None if option is None else float(option)
