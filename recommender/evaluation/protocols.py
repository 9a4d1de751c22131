"""Evaluation protocols: fit a model on a data set, build its lists, score them.

Where :mod:`recommender.evaluation.metrics` holds the pure metrics, this module holds the *protocols*,
each a function returning a plain ``dict`` of figures (``docs/quality.md`` records them):

* :func:`evaluate_labels` -- **Related**: relevant = another article with the same label
  (a story id, a section); P@k, nDCG@k, recall@k, MRR.
* :func:`evaluate_popularity` -- **Ranking**: fit on the reactions before a split time, rank
  the stories in the ranking window, correlate with the reactions of the next 24 hours
  (Spearman, Kendall, nDCG@8), against the "raw count so far" baseline.
* :func:`evaluate_recommendations` -- **Recommendation**: diversity, coverage, popularity
  bias and near-duplicates of every page's list, against popularity-only and
  similarity-only blends of the same model.
* :func:`~recommender.evaluation.mind.evaluate_mind` -- the MIND click benchmark (in :mod:`recommender.evaluation.mind`).

Example::

    >>> from recommender.datasets import sample_articles_path, sample_stories
    >>> result = evaluate_labels(sample_articles_path(), story_labels(sample_stories()), k=5)
    >>> result["n_queries"], round(result["precision"], 3)
    (62, 0.919)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import scipy.stats

from .._checks import check_k, check_now

from .._time import epoch_seconds
from .metrics import (catalogue_coverage, intra_list_similarity_rows, mean_over_queries, ndcg_at_k,
                       near_duplicate_rate_rows, popularity_bias, precision_at_k, recall_at_k, reciprocal_rank,
                       spearman)
from ..exceptions import InvalidInputError, InvalidOptionError
from .mind import evaluate_mind
from .._model import Recommender
from .._reactions import load_reactions
from .._recommend import SIGNALS

__all__ = ["BASELINES", "daily_splits", "evaluate_labels", "evaluate_mind", "evaluate_popularity",
           "evaluate_recommendations", "other_story_reader", "story_labels"]

#: Blend weights of the two Recommendation baselines of :func:`evaluate_recommendations`.
BASELINES = {
    "popularity_only": {name: float(name == "popularity") for name in SIGNALS},
    "similarity_only": {name: float(name == "article") for name in SIGNALS},
}


def story_labels(truth: Mapping[str, Any]) -> dict[str, str]:
    """``article id -> story id`` from a ground truth like :func:`~recommender.datasets.sample_stories`."""
    return {article: story for story, members in truth["stories"].items() for article in members}


# ---------------------------------------------------------------- Related: labels
def evaluate_labels(articles: Any, labels: Mapping[str, Hashable | None], *, k: int = 10,
                    **recommender_options: Any) -> dict[str, Any]:
    """Related lists judged by labels: relevant = another article with the same label.

    Parameters
    ----------
    articles : path, iterable of Article or dict, or DataFrame
        Fitted with ``Recommender(**recommender_options)``.
    labels : mapping of str to hashable or None
        ``article id -> label`` (a story id, a section); ``None`` or a missing id means
        unlabelled. Articles whose label no other indexed article shares are skipped.
    k : int, default=10
        Length of the Related lists.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``ndcg`` (at ``k``), ``mrr``, ``precision_ceiling`` (the
        best possible P@k: small groups cannot fill ``k`` places), ``precision_by_k`` (P@1..P@k
        of the same lists) and ``ceiling_by_k``, ``k``, ``n_queries``, ``n_skipped``. An
        unlabelled article in a list counts as a miss.
    """
    k = check_k(k)
    model = Recommender(**recommender_options).fit(articles)
    members: dict[Hashable, set[str]] = {}
    for article_id in model.article_ids:
        if labels.get(article_id) is not None:
            members.setdefault(labels[article_id], set()).add(article_id)
    queries = {a: group - {a} for group in members.values() for a in group if len(group) > 1}
    lists = {a: [hit.article_id for hit in model.related(a, k=k)] for a in sorted(queries)}

    def mean(metric: Callable[[list, set], float]) -> float:
        return mean_over_queries(metric(lists[a], queries[a]) for a in lists)

    return {
        "k": k,
        "precision": mean(lambda shown, mates: precision_at_k(shown, mates, k)),
        "recall": mean(lambda shown, mates: recall_at_k(shown, mates, k)),
        "ndcg": mean(lambda shown, mates: ndcg_at_k(shown, mates, k)),
        "mrr": mean(lambda shown, mates: reciprocal_rank(shown, mates)),
        "precision_ceiling": mean(lambda shown, mates: min(k, len(mates)) / k),
        "precision_by_k": [mean(lambda shown, mates, j=j: precision_at_k(shown, mates, j)) for j in range(1, k + 1)],
        "ceiling_by_k": [mean(lambda shown, mates, j=j: min(j, len(mates)) / j) for j in range(1, k + 1)],
        "n_queries": len(lists),
        "n_skipped": len(model.article_ids) - len(lists),
    }


# ---------------------------------------------------------------- Ranking: next-day reactions
def daily_splits(reactions: Any, *, warmup: timedelta = timedelta(days=7), horizon: timedelta = timedelta(hours=24),
                 hour: int = 12) -> list[datetime]:
    """Split times for :func:`evaluate_popularity`: every day at ``hour`` UTC, from ``warmup``
    after the first reaction to ``horizon`` before the last one."""
    stamps = [r.at for r in load_reactions(reactions) if r.at is not None]
    if not stamps:
        raise InvalidInputError("no dated reaction events to place split times between")
    first, last = min(stamps) + warmup, max(stamps) - horizon
    day = first.astimezone(timezone.utc).replace(hour=hour, minute=0, second=0, microsecond=0)
    day += timedelta(days=1) if day < first else timedelta(0)
    splits = []
    while day <= last:
        splits.append(day)
        day += timedelta(days=1)
    return splits


def _kendall(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(scipy.stats.kendalltau(x, y).statistic)


def _rank_scores(scores: np.ndarray, future: np.ndarray, ids: list[str], shown: list[str] | None = None,
                 k: int = 8) -> dict[str, float]:
    if shown is None:  # a baseline's list: the k best positive scores, ties by id
        shown = [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i])) if scores[i] > 0][:k]
    gains = {ids[i]: float(future[i]) for i in range(len(ids))}
    return {
        "spearman": spearman(scores, future),
        "kendall": _kendall(scores, future),
        "ndcg@8": ndcg_at_k(shown, gains, k) if shown else (math.nan if not any(future) else 0.0),
    }


def evaluate_popularity(articles: Any, reactions: Any, *, split: datetime | Sequence[datetime],
                        horizon: timedelta = timedelta(hours=24), **recommender_options: Any) -> dict[str, Any]:
    """Ranking scores at ``split`` against the reactions of the next ``horizon``.

    The model is fitted on ``articles`` and only the reactions before each split (strictly);
    the stories of the ranking window (published within ``ranking_max_age`` before the split)
    get the score ``ranking(mode=...)`` sorts by (0 for a story without reactions yet, which
    the list leaves out), correlated with the number of reactions (presses) each gets in
    ``[split, split + horizon)``; nDCG@8 judges the list ``ranking(k=8)`` itself, with those
    numbers as gains. Baseline ``count_so_far``: the raw number of presses before the split.
    Reactions to ids not among ``articles`` are ignored.

    Parameters
    ----------
    articles : path, iterable of Article or dict, or DataFrame
    reactions : path, iterable of Reaction or dict, or DataFrame
        Events with timestamps (``article_id, reaction, at``).
    split : datetime or sequence of datetime
        Timezone-aware; with several, per-split figures are averaged (nan skipped).
        See :func:`daily_splits`.
    horizon : datetime.timedelta, default=24 hours

    Returns
    -------
    dict
        ``{"popular": {"spearman", "kendall", "ndcg@8"}, "trending": {...}, "count_so_far": {...},
        "n_splits", "n_articles" (mean window size), "splits": [per-split dicts]}``.
    """
    splits = sorted(check_now(s) for s in ([split] if isinstance(split, datetime) else split))
    if not splits:
        raise InvalidOptionError("split must be a datetime or a non-empty sequence of datetimes")
    if not isinstance(horizon, timedelta) or horizon <= timedelta(0):
        raise InvalidOptionError(f"horizon must be a positive timedelta, got {horizon!r}")
    events = load_reactions(reactions)
    if any(r.at is None for r in events):
        raise InvalidInputError("evaluate_popularity needs reaction events with timestamps ('at'), not undated counts")
    model = Recommender(**recommender_options).fit(articles)
    catalog = model.catalog_
    events = sorted((r for r in events if r.article_id in catalog), key=lambda r: r.at)
    times = np.array([epoch_seconds(r.at) for r in events], dtype=np.int64)
    rows = catalog.rows(r.article_id for r in events)
    presses = np.array([r.count for r in events], dtype=np.float64)
    recorded, per_split = 0, []
    for moment in splits:
        now = epoch_seconds(moment)
        before = int(np.searchsorted(times, now, side="left"))
        model.record_reactions(events[recorded:before], now=moment)
        recorded = max(recorded, before)
        window = catalog.published_between(now - model.ranking_max_age.total_seconds(), now)
        if len(window) < 2:
            continue
        after = int(np.searchsorted(times, now + horizon.total_seconds(), side="left"))
        future = np.bincount(rows[before:after], presses[before:after], minlength=len(catalog))[window]
        so_far = np.bincount(rows[:before], presses[:before], minlength=len(catalog))[window]
        ids = [catalog.id(row) for row in window]
        figures: dict[str, Any] = {"split": moment.isoformat(), "n_articles": len(window)}
        reacted = model.popularity_.totals(window) > 0
        for mode in ("popular", "trending"):
            scores = model.popularity_.scores(window, catalog.published[window].astype(np.float64), float(now), mode)
            shown = [hit.article_id for hit in model.ranking(k=8, now=moment, mode=mode)]
            figures[mode] = _rank_scores(np.where(reacted, scores, 0.0), future, ids, shown)
        figures["count_so_far"] = _rank_scores(so_far, future, ids)
        per_split.append(figures)
    summary: dict[str, Any] = {name: {metric: mean_over_queries(s[name][metric] for s in per_split)
                                      for metric in ("spearman", "kendall", "ndcg@8")}
                               for name in ("popular", "trending", "count_so_far")}
    summary["n_splits"] = len(per_split)
    summary["n_articles"] = float(np.mean([s["n_articles"] for s in per_split])) if per_split else 0.0
    summary["splits"] = per_split
    return summary


# ---------------------------------------------------------------- Recommendation: beyond accuracy
def other_story_reader(labels: Mapping[str, Hashable | None], n: int = 2) -> Callable[[str], list[str]]:
    """A simulated reader: on every page, a history of ``n`` articles of one story.

    The story is the first label (in sorted order) with at least ``n`` articles that is not
    the page's own; its first ``n`` ids (sorted) are the history.
    """
    groups: dict[Hashable, list[str]] = {}
    for article_id, label in labels.items():
        if label is not None:
            groups.setdefault(label, []).append(article_id)
    stories = [sorted(ids)[:n] for label, ids in sorted(groups.items(), key=lambda item: str(item[0])) if len(ids) >= n]
    if len(stories) < 2:
        raise InvalidOptionError(f"other_story_reader needs two labels with at least {n} articles each")

    def history(article_id: str) -> list[str]:
        own = labels.get(article_id)
        return next(ids for ids in stories if labels[ids[0]] != own)
    return history


def _list_figures(model: Recommender, lists: list[list[str]], popular: set[str], counts: dict[str, float]) -> dict:
    vectors, catalog = model.index_.vectors, model.catalog_
    rows = [catalog.rows(ids) for ids in lists]
    shown = [item for ids in lists for item in ids]
    share = sum(item in popular for item in shown) / len(shown) if shown else math.nan
    return {
        "intra_list_similarity": intra_list_similarity_rows(rows, vectors),
        "coverage": catalogue_coverage(lists, len(catalog)),
        "popular_share": share,
        "long_tail_share": 1.0 - share,
        "popularity_bias": popularity_bias(lists, counts),
        "near_duplicate_rate": near_duplicate_rate_rows(rows, vectors, float(model.duplicate_threshold)),
        "mean_length": float(np.mean([len(ids) for ids in lists])) if lists else 0.0,
    }


def evaluate_recommendations(model: Recommender, *, now: datetime,
                             history_fn: Callable[[str], Iterable[str]] | None = None, on_page: bool = True,
                             article_ids: Iterable[str] | None = None) -> dict[str, Any]:
    """Beyond-accuracy figures of the Recommendation list of every page, against two baselines.

    For every article published by ``now``, the Recommendation list of
    ``model.page(article_id, history, now)`` is built (with ``on_page=False``, that of
    ``model.recommend(article_id, history, k=8, now=now)``, before the page takes out what
    its Related and Ranking lists show). The same lists are built by copies of the model whose
    blend is popularity only and similarity to the article only (:data:`BASELINES`).

    Parameters
    ----------
    model : Recommender
        Fitted, with its reactions recorded.
    now : datetime
        Timezone-aware site time.
    history_fn : callable, optional
        ``history_fn(article_id) -> ids`` the reader of that page read before (oldest first);
        ``None``: a new reader (empty history). See :func:`other_story_reader`.
    on_page : bool, default=True
        Judge the list as the page shows it, or the plain ``recommend`` list.
    article_ids : iterable of str, optional
        Only these pages (default: every article published by ``now``).

    Returns
    -------
    dict
        ``{"model": figures, "popularity_only": figures, "similarity_only": figures, "n_pages": int}``;
        figures are ``intra_list_similarity`` (mean pairwise cosine), ``coverage`` (share of the
        catalogue in some list), ``popular_share`` (share of the recommended items among the top
        20 % of articles by reactions recorded; ``long_tail_share`` the rest), ``popularity_bias``
        (mean popularity percentile, 0.5 = neutral), ``near_duplicate_rate`` and ``mean_length``.
    """
    moment = check_now(now)
    catalog = model.catalog_
    ids = model.article_ids if article_ids is None else list(article_ids)
    pages = [a for a in ids if catalog.published[catalog.row(a)] <= epoch_seconds(moment)]
    totals = model.popularity_.totals(np.arange(len(catalog)))
    counts = {catalog.id(row): float(totals[row]) for row in range(len(catalog))}
    by_reactions = sorted(counts, key=lambda item: (-counts[item], item))
    popular = {item for item in by_reactions[:math.ceil(0.2 * len(by_reactions))] if counts[item] > 0}
    result: dict[str, Any] = {}
    for name, weights in {"model": None, **BASELINES}.items():
        variant = model
        if weights is not None:
            variant = copy.copy(model)  # shares the fitted state; only the blend differs
            variant.blend_weights = weights
        lists = []
        for article_id in pages:
            history = list(history_fn(article_id)) if history_fn else []
            hits = (variant.page(article_id, history=history, now=moment).recommendation if on_page
                    else variant.recommend(article_id, history=history, k=8, now=moment))
            lists.append([hit.article_id for hit in hits])
        result[name] = _list_figures(variant, lists, popular, counts)
    result["n_pages"] = len(pages)
    return result
