"""Popularity from reactions: time-decayed, smoothed scores for the Ranking list.

How it works
------------
Every reaction ``e`` to article ``i`` carries a weight ``w`` (per reaction type, default 1)
and a time ``t``. For a half-life ``h`` the article's **decayed reaction mass** at time
``now`` is::

    M_i(now) = sum_e  w_e * 2 ** (-(now - t_e) / h)

and its **decayed exposure**, the time it has been on the site counted the same way, is::

    E_i(now) = h / ln 2 * (1 - 2 ** (-(now - published_i) / h))      (hours)

The **popular** score is a smoothed reaction rate (Bayesian average with a prior of
``prior_hours`` hours at the site's mean rate ``m`` over the ranked window)::

    popular_i = (M_i + prior_hours * m) / (E_i + prior_hours)

so a story with 2 reactions in its first minute (rate pulled to the site mean) does not
beat one with 500 in its first hour, and a story's score fades with the half-life once
readers stop reacting. **Trending** compares a story with its own past: its rate under a
short half-life (``trend_half_lives[0]``), shrunk toward its own smoothed rate under a long
half-life (``trend_half_lives[1]``) with the same prior, divided by that long-term rate;
above 1 means readers react faster now than usual for it, and a story nobody reacted to
lately sinks below 1 instead of being lifted by the site's average.
The **gravity** decay is the classic Hacker News formula on undecayed weighted totals:
``W_i / (age_hours + 2) ** gravity``.

State is updated incrementally: each article keeps, per half-life, its mass as of its
latest reaction; a new batch rescales and adds, touching only the articles it names.
A query considers only articles published within ``max_age`` of ``now`` (found by binary
search in publication order), so its cost grows with the window, not the archive.

Pure computation: arrays in, arrays out; the caller supplies ``now`` and row metadata.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PopularityConfig", "PopularityState"]

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class PopularityConfig:
    """Scoring options (see the module docstring for the formulas).

    Parameters
    ----------
    decay : {"exponential", "gravity"}
    half_life_hours : float
        Half-life of the popular score's reaction mass (exponential decay).
    gravity : float
        Exponent of the gravity decay.
    prior_hours : float
        Strength of the smoothing prior, in hours of exposure at the site mean rate.
    trend_half_lives : tuple of float
        Short and long half-lives (hours) of the trending ratio.
    max_age_hours : float
        Only articles published at most this long before ``now`` are ranked.
    """

    decay: str = "exponential"
    half_life_hours: float = 6.0
    gravity: float = 1.8
    prior_hours: float = 1.0
    trend_half_lives: tuple[float, float] = (1.0, 24.0)
    max_age_hours: float = 7 * 24.0

    @property
    def half_lives(self) -> np.ndarray:
        """Half-lives (hours) of the tracked masses: popular, trend short, trend long, none."""
        return np.array([self.half_life_hours, *self.trend_half_lives, math.inf])


class PopularityState:
    """Decayed reaction masses per article row, updated incrementally.

    Parameters
    ----------
    config : PopularityConfig
    n_rows : int
        Number of articles (rows) to start with; grows with :meth:`grow`.

    Attributes
    ----------
    mass : ndarray of float64, shape (n_rows, 4)
        Weighted reaction mass per tracked half-life, as of ``last``.
    last : ndarray of float64, shape (n_rows,)
        Epoch seconds of each row's latest reaction (``-inf`` before the first).
    """

    def __init__(self, config: PopularityConfig, n_rows: int = 0) -> None:
        self.config = config
        self.mass = np.zeros((n_rows, 4))
        self.last = np.full(n_rows, -np.inf)

    @classmethod
    def from_arrays(cls, config: PopularityConfig, mass: np.ndarray, last: np.ndarray) -> PopularityState:
        """Rebuild from the arrays :attr:`mass` and :attr:`last` (a loaded model)."""
        state = cls(config)
        state.mass, state.last = np.array(mass, dtype=np.float64), np.array(last, dtype=np.float64)
        return state

    def grow(self, n_rows: int) -> None:
        """Make room for rows up to ``n_rows`` (new articles start with no reactions)."""
        extra = n_rows - len(self.last)
        if extra > 0:
            self.mass = np.vstack([self.mass, np.zeros((extra, 4))])
            self.last = np.concatenate([self.last, np.full(extra, -np.inf)])

    def _factors(self, elapsed_seconds: np.ndarray, half_lives: np.ndarray | None = None) -> np.ndarray:
        """``2 ** (-elapsed / h)`` for every tracked half-life (or those given): shape (len(elapsed), 4)."""
        half_lives = self.config.half_lives if half_lives is None else half_lives
        hours = np.maximum(np.asarray(elapsed_seconds, dtype=np.float64), 0.0)[:, None] / HOUR
        with np.errstate(invalid="ignore"):
            factors = np.exp2(-hours / half_lives[None, :])
        if np.isinf(half_lives).any():  # an endless half-life over an endless wait (no reactions yet): inf / inf
            factors = np.nan_to_num(factors, nan=0.0)  # times 0 mass
        return factors

    def record(self, rows: np.ndarray, weights: np.ndarray, times: np.ndarray) -> None:
        """Add reactions: ``weights[j]`` presses-times-weight on ``rows[j]`` at epoch ``times[j]``.

        Equivalent to recording them one by one in any order.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        weights = np.asarray(weights, dtype=np.float64)
        times = np.asarray(times, dtype=np.float64)
        touched, group = np.unique(rows, return_inverse=True)
        newest = np.full(touched.size, -np.inf)
        np.maximum.at(newest, group, times)
        new_last = np.maximum(newest, self.last[touched])
        carried = self.mass[touched] * self._factors(new_last - self.last[touched])
        added = np.zeros_like(carried)
        np.add.at(added, group, weights[:, None] * self._factors(new_last[group] - times))
        self.mass[touched] = carried + added
        self.last[touched] = new_last

    def masses_at(self, rows: np.ndarray, now: float) -> np.ndarray:
        """Decayed masses of ``rows`` at epoch ``now``: shape (len(rows), 4).

        Reactions later than ``now`` count as if they happened at ``now``.
        """
        return self.mass[rows] * self._factors(now - self.last[rows])

    def exposure(self, published: np.ndarray, now: float, half_lives: np.ndarray | None = None) -> np.ndarray:
        """Decayed exposure in hours since publication for every tracked half-life (or those given)."""
        hours = np.maximum(now - np.asarray(published, dtype=np.float64), 0.0)[:, None] / HOUR
        half_lives = (self.config.half_lives if half_lives is None else half_lives)[None, :]
        with np.errstate(invalid="ignore"):
            decayed = half_lives / math.log(2) * -np.expm1(-hours * math.log(2) / half_lives)
        return np.where(np.isinf(half_lives), hours, decayed)

    def scores(self, rows: np.ndarray, published: np.ndarray, now: float, mode: str) -> np.ndarray:
        """Scores of ``rows`` (published at ``published``) at epoch ``now``.

        Parameters
        ----------
        mode : {"popular", "trending"}

        Returns
        -------
        ndarray of float64, shape (len(rows),)
        """
        if len(rows) == 0:
            return np.zeros(0)
        if mode == "popular" and self.config.decay != "gravity":
            return self._popular(rows, published, now)
        masses = self.masses_at(rows, now)
        if mode == "popular" and self.config.decay == "gravity":
            age_hours = np.maximum(now - published, 0.0) / HOUR
            return masses[:, 3] / (age_hours + 2.0) ** self.config.gravity
        exposure = self.exposure(published, now)
        prior = self.config.prior_hours
        site_rate = masses.sum(axis=0) / np.maximum(exposure.sum(axis=0), 1e-9)
        rates = (masses + prior * site_rate) / (exposure + prior)
        if mode == "popular":
            return rates[:, 0]
        # trending: the short-term rate, shrunk toward the story's own long-term rate (not the
        # site's, which would lift quiet stories), relative to that long-term rate
        baseline = np.maximum(rates[:, 2], 1e-12)
        short = (masses[:, 1] + prior * baseline) / (exposure[:, 1] + prior)
        return short / baseline

    def _popular(self, rows: np.ndarray, published: np.ndarray, now: float) -> np.ndarray:
        """The ``"popular"`` scores of :meth:`scores`, computing only the masses and exposures of
        the popular half-life (the first column), a quarter of the work. The site sums add the
        rows one after the other, as the full computation's column sums of a row-major array
        do, so every score has its bits (``tests/test_popularity.py``)."""
        popular = self.config.half_lives[:1]
        masses = self.mass[rows, 0] * self._factors(now - self.last[rows], popular)[:, 0]
        exposure = self.exposure(published, now, popular)[:, 0]
        prior = self.config.prior_hours
        site_rate = _sum_in_order(masses) / max(_sum_in_order(exposure), 1e-9)
        return (masses + prior * site_rate) / (exposure + prior)

    def totals(self, rows: np.ndarray) -> np.ndarray:
        """Undecayed weighted reaction totals of ``rows``."""
        return self.mass[rows, 3]


def _sum_in_order(values: np.ndarray) -> float:
    """The sum of ``values`` added strictly left to right (not numpy's pairwise summation)."""
    return float(np.add.accumulate(values)[-1]) if len(values) else 0.0
