"""Simple scorers to hold a recommender against on logged impressions, and a paired bootstrap.

Each baseline is a factory returning ``score(history, candidates) -> scores`` (one float per
candidate, higher = more likely clicked), the form :func:`~recommender.evaluation.mind.evaluate_mind`
takes:

* :func:`random_scorer`: seeded uniform scores (AUC 0.5 in expectation);
* :func:`tfidf_scorer`: cosine between the candidate's TF-IDF vector (title and body,
  scikit-learn's ``TfidfVectorizer`` with sublinear tf and English stop words, fitted on all
  the news) and the unit-length mean of the history's vectors;
* :func:`section_share_scorer`: the share of the history in the candidate's section,
  smoothed by one pseudo-read spread in the archive's section proportions.

Popularity as of the impression's time needs the replayed reaction stream and lives in
:mod:`recommender.evaluation.mind`. :func:`paired_bootstrap` gives a confidence interval of
the mean difference between two scorers over the same impressions.

Pure computation: news dicts in, scorers out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Scorer", "paired_bootstrap", "random_scorer", "section_share_scorer", "tfidf_scorer"]

Scorer = Callable[[Sequence[str], Sequence[str]], np.ndarray]

SHARE_PRIOR_READS = 1.0
"""Pseudo-reads of :func:`section_share_scorer`, spread in the archive's section proportions."""


def random_scorer(random_state: int | None = 0) -> Scorer:
    """Uniform random scores from a seeded generator."""
    rng = np.random.default_rng(random_state)
    return lambda history, candidates: rng.random(len(candidates))


def tfidf_scorer(news: Sequence[dict[str, Any]]) -> Scorer:
    """Cosine of each candidate to the unit-length mean of the history's TF-IDF vectors (0 without history)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    row = {article["id"]: i for i, article in enumerate(news)}
    texts = [f"{article['title']} {article['body']}" for article in news]
    vectors = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts).tocsr()

    def score(history: Sequence[str], candidates: Sequence[str]) -> np.ndarray:
        read = [row[h] for h in history if h in row]
        if not read:
            return np.zeros(len(candidates))
        profile = np.asarray(vectors[read].mean(axis=0)).ravel()
        norm = np.linalg.norm(profile)
        if norm == 0:
            return np.zeros(len(candidates))
        return vectors[[row[c] for c in candidates]] @ (profile / norm)
    return score


def section_share_scorer(news: Sequence[dict[str, Any]]) -> Scorer:
    """``(#history in the candidate's section + p(section)) / (|history| + 1)``, p the archive's share."""
    section = {article["id"]: article.get("section") for article in news}
    counts = Counter(section.values())
    prior = {name: n / len(section) for name, n in counts.items()}

    def score(history: Sequence[str], candidates: Sequence[str]) -> np.ndarray:
        read = Counter(section[h] for h in history if h in section)
        n_read = sum(read.values())
        return np.array([(read[section[c]] + SHARE_PRIOR_READS * prior[section[c]]) / (n_read + SHARE_PRIOR_READS)
                         for c in candidates])
    return score


def paired_bootstrap(differences: Sequence[float], *, n_resamples: int = 2000, confidence: float = 0.95,
                     random_state: int | None = 0) -> tuple[float, float, float]:
    """Mean of per-query differences and its percentile bootstrap interval (``nan`` entries skipped).

    Returns
    -------
    mean, low, high : float
    """
    values = np.asarray([d for d in differences if not np.isnan(d)], dtype=np.float64)
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(random_state)
    means = values[rng.integers(0, values.size, size=(n_resamples, values.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    return float(values.mean()), float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))
