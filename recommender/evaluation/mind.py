"""The MIND news-recommendation benchmark: rank the candidates of each impression.

MIND (Wu et al. 2020, *MIND: A Large-scale Dataset for News Recommendation*) logs what
Microsoft News showed its readers and what they clicked. Two tab-separated files, no header:

* ``news.tsv``: news id, category, subcategory, title, abstract, url, title entities,
  abstract entities;
* ``behaviors.tsv``: impression id, user id, time (``11/15/2019 8:55:22 AM``), the user's
  click history (space-separated news ids, oldest first) and the impression: the candidates
  shown, each with its click label (``N123-1 N456-0``).

A system scores every candidate of an impression; per impression the benchmark computes
AUC, MRR, nDCG@5 and nDCG@10 from the scores and labels (:func:`~recommender.evaluation.metrics.auc`,
:func:`~recommender.evaluation.metrics.mrr_impression`, :func:`~recommender.evaluation.metrics.ndcg_impression`
reproduce MIND's ``evaluate.py``) and averages them over impressions.

How the library is scored
-------------------------
:func:`evaluate_mind` fits a :class:`~recommender.Recommender` on the news (title = title,
body = abstract or the title when there is none, section = category, one fixed publication
time, so freshness is the same for all), records every news item's clicks in the users'
histories as reactions (one per user, so popularity never sees the impressions' labels),
and scores candidates with the Recommendation blend of :mod:`recommender._recommend` for a
reader with that history and no current article (:func:`blend_scorer`): the history and
popularity signals, each scaled by its best value over the whole site. Diversification
(maximal marginal relevance) orders a list; it is not a per-candidate score, so it plays
no part here. Any other scorer can be passed as ``score_fn(history, candidates)``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .._options import BlendWeights
from .._ranking import ranking_window
from .._recommend import reading_profile
from .._checks import check_now
from .._time import epoch_seconds
from .metrics import auc, mean_over_queries, mrr_impression, ndcg_impression
from ..exceptions import InvalidInputError, InvalidOptionError, UnknownArticleError
from .._model import Recommender
from .._popularity import HOUR

__all__ = ["Impression", "blend_scorer", "evaluate_mind", "read_mind_behaviors", "read_mind_news"]

PUBLISHED_AT = datetime(2019, 11, 1, tzinfo=timezone.utc)
NOW = PUBLISHED_AT + timedelta(hours=1)

ScoreFn = Callable[[Sequence[str], Sequence[str]], Sequence[float]]


@dataclass(frozen=True)
class Impression:
    """One line of ``behaviors.tsv``.

    Parameters
    ----------
    impression_id, user_id, time : str
    history : tuple of str
        Clicked news before the impression, oldest first.
    candidates : tuple of str
    labels : tuple of int
        1 = clicked, 0 = not, aligned with ``candidates``.
    source : str
        ``file:line``, for error messages.
    """

    impression_id: str
    user_id: str
    time: str
    history: tuple[str, ...]
    candidates: tuple[str, ...]
    labels: tuple[int, ...]
    source: str = ""


def _rows(path: str | os.PathLike, min_fields: int) -> list[tuple[int, list[str]]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read MIND file: {error}", source=str(path)) from None
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < min_fields:
            raise InvalidInputError(f"expected at least {min_fields} tab-separated fields, found {len(fields)}",
                                    source=str(path), line=number)
        rows.append((number, fields))
    return rows


def read_mind_news(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Article dicts from a MIND ``news.tsv`` (see the module docstring for the mapping)."""
    articles = []
    for _, fields in _rows(path, 4):
        news_id, category, subcategory, title = (field.strip() for field in fields[:4])
        abstract = fields[4].strip() if len(fields) > 4 else ""
        articles.append({
            "id": news_id, "title": title, "body": abstract or title or f"{category} {subcategory}",
            "published_at": PUBLISHED_AT, "section": category or None, "tags": [subcategory] if subcategory else [],
        })
    return articles


def read_mind_behaviors(path: str | os.PathLike) -> list[Impression]:
    """Impressions from a MIND ``behaviors.tsv``; every candidate must carry a ``-0``/``-1`` label."""
    impressions = []
    for number, fields in _rows(path, 5):
        candidates, labels = [], []
        for item in fields[4].split():
            news_id, _, label = item.rpartition("-")
            if not news_id or label not in ("0", "1"):
                raise InvalidInputError(f"impression item {item!r} is not 'NEWSID-0' or 'NEWSID-1' "
                                        "(the MIND test set has no labels and cannot be scored)",
                                        source=str(path), line=number)
            candidates.append(news_id)
            labels.append(int(label))
        if not candidates:
            raise InvalidInputError("impression without candidates", source=str(path), line=number)
        impressions.append(Impression(fields[0].strip(), fields[1].strip(), fields[2].strip(),
                                      tuple(fields[3].split()), tuple(candidates), tuple(labels), f"{path}:{number}"))
    return impressions


def blend_scorer(model: Recommender, *, now: datetime = NOW) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    """``score(history, candidates)``: the Recommendation blend's relevance of each candidate.

    Mirrors the relevance of :func:`recommender._recommend.recommendation_list` for a reader with
    ``history`` and no current article: ``w_history * cos(profile) / max cos(profile)
    + w_popularity * popular / max popular + w_freshness * 2 ** (-age / half-life)``, the
    maxima over the whole site, cosines below ``min_similarity`` or at a near-duplicate
    level counting 0. History ids the model does not hold are ignored; an unknown
    candidate raises :class:`~recommender.exceptions.UnknownArticleError`.
    """
    index, catalog, popularity = model.index_, model.catalog_, model.popularity_
    weights = BlendWeights(**{name: float(value) for name, value in (model.blend_weights or {}).items()})
    moment = float(epoch_seconds(check_now(now)))
    window = ranking_window(popularity, catalog, moment)
    popular = np.zeros(len(catalog))
    popular[window] = popularity.scores(window, catalog.published[window].astype(np.float64), moment, "popular")
    if popular.max(initial=0.0) > 0:
        popular /= popular.max()
    age_hours = np.maximum(moment - catalog.published, 0) / HOUR
    freshness = np.exp2(-age_hours / float(model.freshness_half_life_hours))
    base = weights.popularity * popular + weights.freshness * freshness
    low, high = float(model.min_similarity), float(model.duplicate_threshold)
    profiles: dict[tuple[str, ...], tuple[Any, float]] = {}

    def masked(cosines: np.ndarray) -> np.ndarray:
        cosines = np.asarray(cosines, dtype=np.float64)
        return np.where((cosines < low) | (cosines >= high), 0.0, cosines)

    def score(history: Sequence[str], candidates: Sequence[str]) -> np.ndarray:
        rows = catalog.rows(candidates)
        key = tuple(history)
        if key not in profiles:
            profile = reading_profile(index, catalog.known_rows(key), float(model.history_half_life))
            top = 0.0 if profile is None else float(masked(index.scores(profile)).max(initial=0.0))
            profiles[key] = (profile, top)
        profile, top = profiles[key]
        if profile is None or top <= 0:
            return base[rows].copy()
        cosines = masked((index.vectors[rows] @ profile.T).toarray().ravel())
        return base[rows] + weights.history * cosines / top
    return score


def _history_clicks(impressions: Sequence[Impression], known: set[str]) -> list[dict[str, Any]]:
    """One click reaction per (user, news) pair of the histories, dated at publication."""
    pairs = {(imp.user_id, news) for imp in impressions for news in imp.history if news in known}
    counts = Counter(news for _, news in pairs)
    return [{"article_id": news, "reaction": "click", "count": n, "at": PUBLISHED_AT}
            for news, n in sorted(counts.items())]


def evaluate_mind(news_path: str | os.PathLike, behaviors_path: str | os.PathLike, *,
                  score_fn: ScoreFn | None = None, **recommender_options: Any) -> dict[str, Any]:
    """AUC, MRR, nDCG@5 and nDCG@10 averaged over impressions, as MIND computes them.

    Parameters
    ----------
    news_path, behaviors_path : path-like
        MIND ``news.tsv`` and ``behaviors.tsv`` (with click labels: train or dev set).
    score_fn : callable, optional
        ``score_fn(history, candidates) -> scores`` (one float per candidate, higher = more
        likely clicked). By default a ``Recommender(**recommender_options)`` is fitted on the
        news and the history clicks and scored with :func:`blend_scorer`.

    Returns
    -------
    dict
        ``auc``, ``mrr``, ``ndcg@5``, ``ndcg@10`` (means over impressions; an impression without
        a click or without a non-click has no AUC and is skipped for it), ``n_impressions``,
        ``n_news``.
    """
    news = read_mind_news(news_path)
    impressions = read_mind_behaviors(behaviors_path)
    if score_fn is None:
        known = {article["id"] for article in news}
        model = Recommender(**recommender_options).fit(news, reactions=_history_clicks(impressions, known))
        score_fn = blend_scorer(model)
    elif recommender_options:
        raise InvalidOptionError("Recommender options have no effect with score_fn; pass one or the other")
    figures: dict[str, list[float]] = {"auc": [], "mrr": [], "ndcg@5": [], "ndcg@10": []}
    for impression in impressions:
        try:
            scores = np.asarray(score_fn(list(impression.history), list(impression.candidates)), dtype=np.float64)
        except UnknownArticleError as error:
            raise InvalidInputError(f"candidate {error.article_id!r} is not in the news file",
                                    source=impression.source) from None
        if scores.shape != (len(impression.candidates),):
            raise InvalidOptionError(f"score_fn returned shape {scores.shape} for "
                                     f"{len(impression.candidates)} candidates")
        figures["auc"].append(auc(scores, impression.labels))
        figures["mrr"].append(mrr_impression(scores, impression.labels))
        figures["ndcg@5"].append(ndcg_impression(scores, impression.labels, 5))
        figures["ndcg@10"].append(ndcg_impression(scores, impression.labels, 10))
    result: dict[str, Any] = {name: mean_over_queries(values) for name, values in figures.items()}
    result.update(n_impressions=len(impressions), n_news=len(news))
    return result
