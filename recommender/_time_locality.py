"""Whether an archive's publication dates predict its neighbours: the statistic behind the
automatic time-proximity prior (:mod:`recommender._related.time_prior`).

Linked articles (each article and its closest neighbours) are compared with articles drawn at
random: the share of each kind published within a window of each other. Real news is local in
time (reports of one event are days apart), so its links are far more often within a few days
than random pairs; dates that carry no signal (an archive stamped with its import day, dates
shuffled) give links no more often within the window than chance.

Pure computation: arrays in, a :class:`Locality` out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["LOCALITY_NEIGHBOURS", "SECONDS_PER_DAY", "Locality", "time_locality"]

LOCALITY_NEIGHBOURS = 5
"""How many of each article's closest neighbours are linked to it."""

SECONDS_PER_DAY = 86_400


class Locality(NamedTuple):
    """How time-local an archive's neighbours are (see :func:`time_locality`).

    Attributes
    ----------
    linked : float
        Share of links whose two articles are published within the window of each other.
    random : float
        Share of all pairs of distinct articles within the window.
    excess : float
        ``(linked - random) / (1 - random)``: the share of links that are time-local beyond chance.
    z : float
        The binomial z-score of ``linked`` against ``random`` over ``links`` draws.
    links : int
        How many links were counted.
    window_days : float
        The window.
    """

    linked: float
    random: float
    excess: float
    z: float
    links: int
    window_days: float


def time_locality(links_from: np.ndarray, links_to: np.ndarray, published: np.ndarray,
                  window_days: float) -> Locality:
    """How much more often linked rows are published within ``window_days`` of each other than
    two rows drawn at random.

    Parameters
    ----------
    links_from, links_to : ndarray of int, shape (n_links,)
        Row pairs, e.g. each article and each of its closest neighbours.
    published : ndarray of int64, shape (n_rows,)
        Publication times in epoch seconds.
    window_days : float
        How close in time counts as close, in days (> 0).
    """
    published = np.asarray(published, dtype=np.int64)
    n, n_links = len(published), int(len(links_from))
    if n < 2 or n_links == 0:
        return Locality(0.0, 1.0, 0.0, 0.0, n_links, window_days)
    window = int(window_days * SECONDS_PER_DAY)
    linked = float(np.mean(np.abs(published[links_from] - published[links_to]) <= window))
    times = np.sort(published)
    within = np.searchsorted(times, times + window, side="right") - np.searchsorted(times, times - window, side="left")
    random = float((within.sum() - n) / (n * (n - 1)))  # ordered pairs of distinct articles
    if not 0.0 < random < 1.0:  # no two articles within the window, or every two: the dates say nothing
        return Locality(linked, random, 0.0, 0.0, n_links, window_days)
    excess = (linked - random) / (1.0 - random)
    z = (linked - random) / float(np.sqrt(random * (1.0 - random) / n_links))
    return Locality(linked, random, float(excess), float(z), n_links, window_days)
