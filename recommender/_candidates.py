"""The candidates of one Recommendation request and every cosine its list needs.

How it works
------------
A request scores a *pool* of candidates, never the whole archive, so its cost follows the
pool (a few hundred rows), not the number of articles:

* the current article's neighbour profile (its ``neighbours`` most similar articles, kept
  since the fit, see :mod:`recommender._profiles`) and the profile of every story read;
* the ``candidates`` most popular stories of the ranking window (scored once per
  popularity state and moment, then kept) and the ``candidates`` newest stories;
* the stories read (never recommended, but their cosines give the profile's norm).

The pool's cosines with the *query rows* (the article and the stories read) come from
:meth:`~recommender._index.CosineIndex.cross_scores`: one pass over the pool's vectors per
four query rows with numba (:mod:`recommender._cross_kernel`), one per query row without.
Whether a candidate is a near-duplicate of a row to avoid (on a page: every story the
Related and Ranking lists took) is read from the profiles' near-duplicate pairs,
complete for every row whose profile bound is below ``duplicate_threshold``; a row to avoid
beyond that joins the query rows. The cosine with the reading profile (unit length
``p = sum_h w_h x_h / |sum_h w_h x_h|``) is the weighted sum of the cosines with the stories
read over the profile's norm, taken from the same call.

The similarity signals are scaled by their best value, near-duplicates of the query aside:

* the article's: its largest cosine with any other story, read from its profile. A story
  outside the profile is no closer than the profile's bound, so this is the maximum over the
  whole archive; when the bound cannot settle it (every profile entry a near-duplicate, or
  an article added after the fit whose left-out neighbours are closer), one product with
  the archive finds it;
* the reading profile's: its largest cosine with any story. The pool holds the stories read
  and the stories closest to each of them; a story outside it is no closer to story ``h``
  than ``h``'s profile bound, so no closer to the profile than ``sum_h w_h bound_h / |sum_h
  w_h x_h|``. When the pool's best reaches that bound (as the newest story read usually does
  for a short history), it is the maximum; otherwise one product of the profile with the
  archive finds it (long histories, as in offline evaluation).

A model without profiles (``neighbours=0``) draws both similarity sources from one product
of the article, and one of the reading profile, with the archive (``candidates`` each), and
scales by the archive's maxima.

Pure computation: model state in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._distinct import known_near_duplicates
from ._index import CosineIndex, top_rows
from ._kept import KeptPerOwner
from ._ranking import scored_window
from ._small_sets import unique
from ._state import ModelState

__all__ = ["Pool", "PopularWindow", "candidate_pool", "history_weights", "popular_window", "reading_profile"]


@dataclass(frozen=True)
class PopularWindow:
    """Popular scores of the ranking window at one moment, by row.

    Parameters
    ----------
    rows : ndarray of int64
        The window's rows, sorted.
    scores : ndarray of float64
        Their popular scores (as the Ranking list scores them: removed stories take no part).
    """

    rows: np.ndarray
    scores: np.ndarray
    _best: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def top(self) -> float:
        """The best score (0 for an empty window)."""
        return float(self.scores.max(initial=0.0))

    def of(self, rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows``; 0 outside the window."""
        at = np.minimum(np.searchsorted(self.rows, rows), max(len(self.rows) - 1, 0))
        inside = self.rows[at] == rows if len(self.rows) else np.zeros(len(rows), dtype=bool)
        return np.where(inside, self.scores[at] if len(self.rows) else 0.0, 0.0)

    def best(self, n: int) -> np.ndarray:
        """Rows of the ``n`` best scores (plus ties with the n-th), unordered; kept per ``n``
        (a window serves every request at its moment). Read-only."""
        found = self._best.get(n)
        if found is None:
            found = self._best[n] = self.rows[top_rows(self.scores, n)]
            found.flags.writeable = False
        return found


_windows = KeptPerOwner(1)  # popularity state -> {now: (catalog, window)}


def popular_window(state: ModelState, now: float) -> PopularWindow:
    """The popular scores of the stories competing in the Ranking list at ``now`` (the same
    scores, read from :func:`~recommender._ranking.scored_window`: one scoring per moment serves
    both lists), by row; kept for the last moment asked of each popularity state (a state never
    changes, so neither do its scores)."""
    known = _windows.get(state.popularity, now)
    if known is not None and known[0] is state.catalog:
        return known[1]
    window, scores, _ = scored_window(state.popularity, state.catalog, now, "popular", None)
    # rows are usually stored in publication order: the window is then its few hundred best rows
    # (in score order) and one sorted run, which a stable (merge) sort orders in about one pass
    order = np.argsort(window, kind="stable")
    found = PopularWindow(window[order], scores[order])
    _windows.put(state.popularity, now, (state.catalog, found))
    return found


def reading_profile(index: CosineIndex, history_rows: np.ndarray, half_life: float) -> sp.csr_matrix | None:
    """Unit-length recency-weighted mean of the history's vectors (newest last), or ``None``."""
    if len(history_rows) == 0:
        return None
    profile = sp.csr_matrix(sp.csr_matrix(history_weights(len(history_rows), half_life)[None, :])
                            @ index.select(history_rows))
    squares = profile.data * profile.data
    if len(squares) and squares.any():  # scaled to unit length, summing squares left to right (as scikit-learn does)
        profile.data /= np.sqrt(np.add.accumulate(squares, dtype=np.float64)[-1])
    return sp.csr_matrix(profile, dtype=np.float32)


def history_weights(n_read: int, half_life: float) -> np.ndarray:
    """Weight of each read, oldest first: ``2 ** (-reads_since / half_life)``, 1 for the newest."""
    return np.exp2(-np.arange(n_read)[::-1] / half_life)


@dataclass(frozen=True)
class Pool:
    """One request's candidates and their signals' raw material.

    Attributes
    ----------
    rows : ndarray of int64, shape (n,)
        Candidate rows, sorted (none filtered out yet).
    article, history : ndarray of float64, shape (n,)
        Cosine with the article and with the reading profile; near-duplicates of the query
        (and noise below the floor) count 0.
    reads : ndarray of float64, shape (n, len(history))
        Cosine with each story read, raw.
    blocked : ndarray of bool, shape (n,)
        A row to avoid, or a near-duplicate of one.
    popular : ndarray of float64, shape (n,)
        Popular score (0 outside the ranking window).
    article_top, history_top, popular_top : float
        The scales (see the module docstring).
    """

    rows: np.ndarray
    article: np.ndarray
    history: np.ndarray
    reads: np.ndarray
    blocked: np.ndarray
    popular: np.ndarray
    article_top: float
    history_top: float
    popular_top: float


def _masked(cosines: np.ndarray, floor: float, threshold: float) -> np.ndarray:
    cosines = np.asarray(cosines, dtype=np.float64)
    return np.where((cosines < floor) | (cosines >= threshold), 0.0, cosines)


def _profile_top(state: ModelState, row: int, floor: float, threshold: float) -> float | None:
    """The article's largest masked cosine with any other row, from its profile; ``None``
    when the profile's bound cannot settle it."""
    neighbours, cosines = state.profiles.row(row)
    below = cosines[cosines < threshold]
    top = float(below.max(initial=0.0))
    bound = float(state.profiles.bound[row])
    if bound >= threshold or bound > top:
        return None
    return top if top >= floor else 0.0


def candidate_pool(state: ModelState, query, extra_rows: np.ndarray | None = None) -> Pool:
    """The pool of a :class:`~recommender._recommend.RecommendQuery` (plus ``extra_rows``,
    scored alongside: candidates an offline evaluation asks about)."""
    index, catalog, profiles = state.index, state.catalog, state.profiles
    floor, threshold = query.floor, query.duplicate_threshold
    history = query.history_rows
    window = popular_window(state, query.now)
    sources = [window.best(query.candidates), catalog.published_between(-np.inf, query.now)[-query.candidates:],
               history]  # the stories read too: their cosines give the profile's norm
    article_top = history_top = None
    if extra_rows is not None:
        sources.append(np.asarray(extra_rows, dtype=np.int64))
    if profiles is not None:
        for row in ([] if query.article_row is None else [query.article_row]) + history.tolist():
            sources.append(profiles.row(row)[0])
        if query.article_row is not None:
            article_top = _profile_top(state, query.article_row, floor, threshold)
    if query.article_row is not None and article_top is None:
        site = _masked(index.scores(index.row_vector(query.article_row)), floor, threshold)
        sources.append(top_rows(site, query.candidates))
        article_top = float(site.max(initial=0.0))
    if profiles is None and len(history):
        site = _masked(index.scores(reading_profile(index, history, query.history_half_life)), floor, threshold)
        sources.append(top_rows(site, query.candidates))
        history_top = float(site.max(initial=0.0))
    rows = unique(np.concatenate(sources).astype(np.int64))

    exclude = np.asarray(query.exclude_rows, dtype=np.int64)
    blocked, unsettled = known_near_duplicates(rows, exclude, threshold, state.profiles)
    queries = unique(np.concatenate([unsettled, history, [] if query.article_row is None else [query.article_row]])
                        .astype(np.int64))
    cosines = index.cross_scores(rows, queries).astype(np.float64)
    if len(unsettled):
        blocked |= cosines[:, np.searchsorted(queries, unsettled)].max(axis=1) >= threshold
    article = (np.zeros(len(rows)) if query.article_row is None
               else _masked(cosines[:, np.searchsorted(queries, query.article_row)], floor, threshold))
    reads = cosines[:, np.searchsorted(queries, history)]
    to_profile = np.zeros(len(rows))
    if len(history):
        weights = history_weights(len(history), query.history_half_life)
        gram = reads[np.searchsorted(rows, history)]
        norm = float(np.sqrt(max(weights @ gram @ weights, 0.0)))
        if norm > 0:
            to_profile = _masked(reads @ weights / norm, floor, threshold)
            if history_top is None and float(to_profile.max(initial=0.0)) < \
                    float(weights @ profiles.bound[history]) / norm:  # a row outside the pool may be closer
                site = _masked(index.scores(reading_profile(index, history, query.history_half_life)), floor,
                               threshold)
                history_top = float(site.max(initial=0.0))
    return Pool(
        rows=rows, article=article, history=to_profile, reads=reads, blocked=blocked, popular=window.of(rows),
        article_top=0.0 if article_top is None else article_top,
        history_top=float(to_profile.max(initial=0.0)) if history_top is None else history_top,
        popular_top=window.top)

