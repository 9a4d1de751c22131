"""The MIND news-recommendation benchmark: rank the candidates of each impression.

MIND (Wu et al. 2020, *MIND: A Large-scale Dataset for News Recommendation*; licensed by
Microsoft for non-commercial research) logs what Microsoft News showed its readers and what
they clicked. Two tab-separated files, no header:

* ``news.tsv``: news id, category, subcategory, title, abstract, url, title entities,
  abstract entities;
* ``behaviors.tsv``: impression id, user id, time (``11/15/2019 8:55:22 AM``), the user's
  click history (space-separated news ids, oldest first) and the impression: the candidates
  shown, each with its click label (``N123-1 N456-0``).

A system scores every candidate of an impression; per impression the benchmark computes
AUC, MRR, nDCG@5 and nDCG@10 from the scores and labels (:func:`~recommender.evaluation.metrics.auc`,
:func:`~recommender.evaluation.metrics.mrr_impression`, :func:`~recommender.evaluation.metrics.ndcg_impression`
reproduce MIND's ``evaluate.py``) and averages them over impressions. Tied scores are broken
at random (seeded), for every scorer alike.

How the library is scored
-------------------------
:func:`evaluate_mind` fits a :class:`~recommender.Recommender` on the news (title = title,
body = abstract or the title when there is none, section = category, tags = [subcategory],
one publication time an hour before the first impression, so freshness is the same for all)
and **replays the log in time order**: the candidates of each impression are scored with
what the site would have known then, and only afterwards are its clicks recorded as
reactions (``click`` events at the impression's time). Popularity therefore comes from clicks
strictly before an impression, never from the impression's own labels nor from later ones;
impressions at the same time see none of each other's clicks. Histories are used as given.

The library's score is the relevance the Recommendation list ranks candidates by before
diversification (:func:`blend_scorer`: the same code as :meth:`~recommender.Recommender.recommend`,
for a reader with that history and no current article). Beside it run the baselines of
:mod:`recommender.evaluation.baselines` (random, TF-IDF to the history, section share) and
popularity as of the impression's time, and optionally a paired bootstrap interval of the
library's AUC minus the best baseline's. Any other scorer can be passed as
``score_fn(history, candidates)``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_now
from .._model import Recommender
from .._options import PopularityOptions
from ..exceptions import InvalidInputError, InvalidOptionError, UnknownArticleError
from .baselines import Scorer, paired_bootstrap, random_scorer, section_share_scorer, tfidf_scorer
from .metrics import auc, mean_over_queries, mrr_impression, ndcg_impression

__all__ = ["Impression", "blend_scorer", "evaluate_mind", "impression_time", "read_mind_behaviors", "read_mind_news"]

PUBLISHED_AT = datetime(2019, 11, 1, tzinfo=timezone.utc)
"""Publication time of the news when the log has no usable times."""

PUBLISHED_BEFORE = timedelta(hours=1)
"""How long before the first impression every news item counts as published."""

TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
"""MIND's impression time format (US dates, 12-hour clock; taken as UTC)."""

METRICS = ("auc", "mrr", "ndcg@5", "ndcg@10")

BASELINES = ("random", "popularity", "tfidf", "section share")
"""The baselines :func:`evaluate_mind` runs beside the library, in report order."""

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


def read_mind_news(path: str | os.PathLike, *, published_at: datetime = PUBLISHED_AT) -> list[dict[str, Any]]:
    """Article dicts from a MIND ``news.tsv`` (see the module docstring for the mapping)."""
    articles = []
    for _, fields in _rows(path, 4):
        news_id, category, subcategory, title = (field.strip() for field in fields[:4])
        abstract = fields[4].strip() if len(fields) > 4 else ""
        articles.append({
            "id": news_id, "title": title, "body": abstract or title or f"{category} {subcategory}",
            "published_at": published_at, "section": category or None, "tags": [subcategory] if subcategory else [],
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


def impression_time(impression: Impression) -> datetime:
    """The impression's time as a UTC datetime.

    Raises
    ------
    InvalidInputError
        When the time is not in MIND's format (``11/15/2019 8:55:22 AM``).
    """
    try:
        return datetime.strptime(impression.time, TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise InvalidInputError(f"impression time {impression.time!r} is not like '11/15/2019 8:55:22 AM'",
                                source=impression.source) from None


def blend_scorer(model: Recommender, *, now: datetime | None = None) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    """``score(history, candidates)``: the Recommendation relevance of each candidate.

    The relevance :meth:`~recommender.Recommender.recommend` ranks candidates by before
    diversification, for a reader with ``history`` and no current article, at ``now`` (the
    latest publication time when ``None``). History ids the model does not hold are
    ignored; an unknown candidate raises :class:`~recommender.exceptions.UnknownArticleError`.
    """
    if now is None:
        now = max(datetime.fromisoformat(model.article_metadata(i)["published_at"]) for i in model.article_ids)
    moment = check_now(now)
    return lambda history, candidates: model._relevance(candidates, history, moment)


def popularity_scorer(model: Recommender, now: datetime) -> Scorer:
    """``score(history, candidates)``: the popular score of each candidate at ``now`` (history unused)."""
    return lambda history, candidates: model._relevance(candidates, (), now, signal="popularity")


def _untied(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ranks of ``scores`` (0 = lowest), equal scores ordered at random."""
    ranks = np.empty(len(scores))
    ranks[np.lexsort((rng.random(len(scores)), scores))] = np.arange(len(scores))
    return ranks


def _figures(scores: np.ndarray, labels: Sequence[int]) -> tuple[float, float, float, float]:
    return (auc(scores, labels), mrr_impression(scores, labels), ndcg_impression(scores, labels, 5),
            ndcg_impression(scores, labels, 10))


def _clicks(impressions: Sequence[Impression], at: datetime) -> list[dict[str, Any]]:
    counts = Counter(news for imp in impressions for news, label in zip(imp.candidates, imp.labels) if label)
    return [{"article_id": news, "reaction": "click", "count": n, "at": at} for news, n in sorted(counts.items())]


def evaluate_mind(news_path: str | os.PathLike, behaviors_path: str | os.PathLike, *,
                  score_fn: ScoreFn | None = None, baselines: bool = True, bootstrap: int = 0,
                  random_state: int | None = 0, **recommender_options: Any) -> dict[str, Any]:
    """AUC, MRR, nDCG@5 and nDCG@10 averaged over impressions, replaying the log in time order.

    Parameters
    ----------
    news_path, behaviors_path : path-like
        MIND ``news.tsv`` and ``behaviors.tsv`` (with click labels: train or dev set).
    score_fn : callable, optional
        ``score_fn(history, candidates) -> scores`` (one float per candidate, higher = more
        likely clicked). By default a ``Recommender(**recommender_options)`` fitted on the
        news, scored with :func:`blend_scorer` at each impression's time, its popularity
        fed by the clicks of earlier impressions.
    baselines : bool, default=True
        Also score the :data:`BASELINES`.
    bootstrap : int, default=0
        Resamples of a paired bootstrap of the AUC difference between the scorer and the best
        baseline (0: none).
    random_state : int or None, default=0
        Seed of random tie-breaking, the random baseline and the bootstrap.

    Returns
    -------
    dict
        ``auc``, ``mrr``, ``ndcg@5``, ``ndcg@10`` of the scorer (means over impressions; an
        impression without a click or without a non-click has no AUC and is skipped for it),
        ``n_impressions``, ``n_news``, ``n_times`` (distinct impression times; 1 means the log
        has no order to replay, so popularity sees no clicks); with ``baselines``, ``baselines``
        (name -> the four figures); with ``bootstrap``, ``bootstrap`` (``baseline``: the best
        baseline by AUC, ``auc_difference``, ``low``, ``high``: the 95 % interval).
    """
    if score_fn is not None and recommender_options:
        raise InvalidOptionError("Recommender options have no effect with score_fn; pass one or the other")
    impressions = read_mind_behaviors(behaviors_path)
    times = [impression_time(impression) for impression in impressions]
    start = min(times) - PUBLISHED_BEFORE
    news = read_mind_news(news_path, published_at=start)
    span = max(times) - start
    recommender_options.setdefault("ranking_max_age", max(PopularityOptions.ranking_max_age, span + PUBLISHED_BEFORE))
    model = Recommender(**recommender_options).fit(news) if score_fn is None or baselines else None
    others: dict[str, Callable[[datetime], Scorer]] = {}
    if baselines:
        fixed = {"random": random_scorer(random_state), "tfidf": tfidf_scorer(news),
                 "section share": section_share_scorer(news)}
        others = {name: (lambda now, scorer=fixed[name]: scorer) for name in fixed}
        others["popularity"] = lambda now: popularity_scorer(model, now)
    rng = np.random.default_rng(random_state)
    figures: dict[str, list[tuple[float, ...]]] = {name: [] for name in ("model", *others)}
    order = sorted(range(len(impressions)), key=times.__getitem__)
    for now, group in groupby(order, key=times.__getitem__):
        batch = [impressions[i] for i in group]
        scorers = {"model": score_fn or blend_scorer(model, now=now)} | {name: make(now) for name, make in others.items()}
        for impression in batch:
            for name, scorer in scorers.items():
                try:
                    scores = np.asarray(scorer(list(impression.history), list(impression.candidates)), dtype=np.float64)
                except (UnknownArticleError, KeyError) as error:
                    missing = getattr(error, "article_id", error.args[0] if error.args else "?")
                    raise InvalidInputError(f"candidate {missing!r} is not in the news file",
                                            source=impression.source) from None
                if scores.shape != (len(impression.candidates),):
                    raise InvalidOptionError(f"score_fn returned shape {scores.shape} for "
                                             f"{len(impression.candidates)} candidates")
                figures[name].append(_figures(_untied(scores, rng), impression.labels))
        if model is not None:
            model.record_reactions(_clicks(batch, now), now=now)  # after scoring: later impressions only
    summary = {name: {metric: mean_over_queries(values[i] for values in rows) for i, metric in enumerate(METRICS)}
               for name, rows in figures.items()}
    result: dict[str, Any] = dict(summary.pop("model"))
    result.update(n_impressions=len(impressions), n_news=len(news), n_times=len(set(times)))
    if baselines:
        result["baselines"] = {name: summary[name] for name in BASELINES}
    if baselines and bootstrap:
        best = max(BASELINES, key=lambda name: summary[name]["auc"])
        mean, low, high = paired_bootstrap([m[0] - b[0] for m, b in zip(figures["model"], figures[best])],
                                           n_resamples=bootstrap, random_state=random_state)
        result["bootstrap"] = {"baseline": best, "auc_difference": mean, "low": low, "high": high}
    return result
