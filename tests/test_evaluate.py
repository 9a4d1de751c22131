"""Offline metrics: hand-computed answers, edge cases, scikit-learn references and properties."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, ndcg_score, roc_auc_score

from recommender import InvalidOptionError
from recommender.evaluation import metrics as evaluate
from recommender.evaluation.metrics import (
    auc,
    average_precision,
    catalogue_coverage,
    hit_rate_at_k,
    intra_list_similarity,
    intra_list_similarity_rows,
    mean_over_queries,
    mrr_impression,
    ndcg_at_k,
    ndcg_impression,
    near_duplicate_rate,
    near_duplicate_rate_rows,
    novelty,
    pearson,
    popularity_bias,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    spearman,
)

LOG2_3 = math.log2(3)
RANKING = [precision_at_k, recall_at_k, hit_rate_at_k, ndcg_at_k]
UNBOUNDED = [reciprocal_rank, average_precision]


def test_docstring_examples_run():
    assert doctest.testmod(evaluate).failed == 0


# ------------------------------------------------------------------ one list, by hand
def test_hand_computed_list():
    shown, story = ["a", "x", "b", "y", "c"], {"a", "b", "c", "d"}
    assert precision_at_k(shown, story, 3) == pytest.approx(2 / 3)
    assert recall_at_k(shown, story, 3) == pytest.approx(2 / 4)
    assert hit_rate_at_k(shown, story, 1) == 1.0
    assert reciprocal_rank(["x", "y", "b"], story) == pytest.approx(1 / 3)
    assert average_precision(shown, story) == pytest.approx((1 + 2 / 3 + 3 / 5) / 4)
    dcg = 1 + 1 / 2 + 1 / math.log2(6)
    ideal = 1 + 1 / LOG2_3 + 1 / 2 + 1 / math.log2(5)
    assert ndcg_at_k(shown, story, 5) == pytest.approx(dcg / ideal)


def test_k_larger_than_the_list_counts_missing_places_as_misses():
    assert precision_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(0.2)
    assert recall_at_k(["a", "b"], {"a", "b"}, 10) == 1.0
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    # the ideal list holds at most k items: a perfect top-2 of a story of 5
    assert ndcg_at_k(["a", "b"], {"a", "b", "c", "d", "e"}, 2) == pytest.approx(1.0)
    assert average_precision(["a", "b"], {"a", "b", "c", "d", "e"}, k=2) == pytest.approx(1.0)
    assert average_precision(["a", "b"], {"a", "b", "c", "d", "e"}) == pytest.approx(2 / 5)


@pytest.mark.parametrize("metric", RANKING + UNBOUNDED)
def test_empty_list_scores_zero_and_empty_relevant_is_nan(metric):
    kwargs = {"k": 3} if metric in RANKING else {}
    assert metric([], {"a"}, **kwargs) == 0.0
    assert math.isnan(metric(["a", "b"], set(), **kwargs))
    assert math.isnan(metric(["a", "b"], {"a": 0, "b": 0.0}, **kwargs))  # gains of 0 are not relevant


@pytest.mark.parametrize("metric", RANKING + UNBOUNDED)
def test_all_relevant_scores_one_and_none_relevant_scores_zero(metric):
    kwargs = {"k": 3} if metric in RANKING else {}
    assert metric(["a", "b", "c"], {"a", "b", "c"}, **kwargs) == pytest.approx(1.0)
    assert metric(["x", "y", "z"], {"a", "b", "c"}, **kwargs) == 0.0


def test_duplicates_in_the_list_count_once_but_take_their_place():
    assert precision_at_k(["a", "a", "b"], {"a", "b"}, 3) == pytest.approx(2 / 3)
    assert precision_at_k(["a", "a"], {"a", "b"}, 2) == pytest.approx(1 / 2)
    assert recall_at_k(["a", "a", "a"], {"a", "b"}, 3) == pytest.approx(1 / 2)
    assert ndcg_at_k(["a", "a", "b"], {"a", "b"}, 3) == pytest.approx((1 + 1 / 2) / (1 + 1 / LOG2_3))
    assert average_precision(["a", "a", "b"], {"a", "b"}) == pytest.approx((1 + 2 / 3) / 2)


def test_graded_ndcg_uses_linear_gains_and_the_ideal_order():
    gains = {"a": 3, "b": 2, "c": 1}
    assert ndcg_at_k(["a", "b", "c"], gains, 3) == pytest.approx(1.0)
    expected = (1 + 2 / LOG2_3 + 3 / 2) / (3 + 2 / LOG2_3 + 1 / 2)
    assert ndcg_at_k(["c", "b", "a"], gains, 3) == pytest.approx(expected)
    # a mapping's positive-gain keys are the relevant set of the binary metrics
    assert precision_at_k(["a", "z"], {"a": 2, "z": 0}, 2) == 0.5


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "3"])
def test_bad_k_is_rejected(k):
    with pytest.raises(InvalidOptionError):
        precision_at_k(["a"], {"a"}, k)
    with pytest.raises(InvalidOptionError):
        ndcg_impression([0.1], [1], k)


def test_bad_arguments_are_rejected():
    with pytest.raises(InvalidOptionError, match="single string"):
        precision_at_k("abc", {"a"}, 2)
    with pytest.raises(InvalidOptionError, match="gains"):
        ndcg_at_k(["a"], {"a": -1}, 2)
    with pytest.raises(InvalidOptionError, match="same length"):
        auc([0.1, 0.2], [1])
    with pytest.raises(InvalidOptionError, match="binary"):
        auc([0.1, 0.2], [2, 0])
    with pytest.raises(InvalidOptionError):
        pearson([1.0], [1.0])
    with pytest.raises(InvalidOptionError):
        catalogue_coverage([["a"]], 0)
    with pytest.raises(InvalidOptionError):
        novelty([["a"]], {"a": 0})


def test_mean_over_queries_skips_queries_that_cannot_be_judged():
    assert mean_over_queries([1.0, float("nan"), 0.0]) == 0.5
    assert math.isnan(mean_over_queries([float("nan")]))
    assert math.isnan(mean_over_queries([]))
    queries = [(["a", "b"], {"a"}), (["c"], set()), (["d"], {"e"})]
    assert mean_over_queries(average_precision(r, g) for r, g in queries) == 0.5  # MAP


# ------------------------------------------------------------------ references
def _ranked_universe(recommended, gains):
    """The same ranking as sklearn arrays: recommended first (distinct decreasing scores), then the rest."""
    universe = list(dict.fromkeys(recommended)) + sorted(set(gains) - set(recommended))
    universe.append("unranked")  # sklearn wants two documents at least; this one is irrelevant and last
    scores = np.arange(len(universe), 0, -1, dtype=float)
    truth = np.array([gains.get(item, 0) for item in universe], dtype=float)
    return truth, scores


lists_and_gains = st.tuples(
    st.lists(st.integers(0, 15), min_size=1, max_size=12, unique=True),
    st.dictionaries(st.integers(0, 15), st.integers(0, 3), min_size=1, max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(lists_and_gains, st.integers(1, 12))
def test_graded_ndcg_matches_sklearn(case, k):
    recommended, gains = case
    k = min(k, len(recommended))  # sklearn would fill places past the list with unranked items
    truth, scores = _ranked_universe(recommended, gains)
    ours = ndcg_at_k(recommended, gains, k)
    if truth.sum() == 0:
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(ndcg_score([truth], [scores], k=k))


@settings(max_examples=200, deadline=None)
@given(lists_and_gains)
def test_average_precision_matches_sklearn_when_every_relevant_item_is_ranked(case):
    recommended, gains = case
    truth, scores = _ranked_universe(recommended, gains)
    full_ranking = list(dict.fromkeys(recommended)) + sorted(set(gains) - set(recommended))
    if truth.sum() == 0:
        return
    assert average_precision(full_ranking, gains) == pytest.approx(average_precision_score(truth > 0, scores))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=2, max_size=30))
def test_auc_matches_sklearn_including_ties(pairs):
    scores = [score / 4 for score, _ in pairs]
    labels = [int(label) for _, label in pairs]
    if len(set(labels)) < 2:
        assert math.isnan(auc(scores, labels))
    else:
        assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


# the MIND benchmark's evaluate.py, verbatim apart from names
def _mind_dcg(y_true, y_score, k=10):
    order = np.argsort(y_score)[::-1]
    y_true = np.take(y_true, order[:k])
    gains = 2**y_true - 1
    discounts = np.log2(np.arange(len(y_true)) + 2)
    return np.sum(gains / discounts)


def _mind_ndcg(y_true, y_score, k=10):
    return _mind_dcg(y_true, y_score, k) / _mind_dcg(y_true, y_true, k)


def _mind_mrr(y_true, y_score):
    order = np.argsort(y_score)[::-1]
    y_true = np.take(y_true, order)
    rr_score = y_true / (np.arange(len(y_true)) + 1)
    return np.sum(rr_score) / np.sum(y_true)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=40, unique_by=lambda p: p[0]))
def test_impression_metrics_match_mind_without_ties(pairs):
    scores = np.array([score for score, _ in pairs])
    labels = np.array([int(label) for _, label in pairs])
    if labels.sum() == 0:
        assert math.isnan(mrr_impression(scores, labels)) and math.isnan(ndcg_impression(scores, labels, 5))
        return
    assert mrr_impression(scores, labels) == pytest.approx(_mind_mrr(labels, scores))
    for k in (5, 10):
        assert ndcg_impression(scores, labels, k) == pytest.approx(_mind_ndcg(labels, scores, k))


def test_impression_metrics_by_hand_and_ties_are_reproducible():
    assert mrr_impression([0.9, 0.5, 0.7, 0.1], [1, 0, 0, 1]) == pytest.approx((1 + 1 / 4) / 2)
    assert ndcg_impression([0.9, 0.5, 0.7, 0.1], [1, 0, 0, 1], k=2) == pytest.approx(1 / (1 + 1 / LOG2_3))
    assert ndcg_impression([0.1, 0.2], [0, 2], k=1) == 1.0  # graded labels: gain 2**2 - 1
    # ties: the later candidate first, every time (np.argsort(..., kind="stable")[::-1])
    assert mrr_impression([0.5, 0.5], [1, 0]) == 0.5
    assert mrr_impression([0.5, 0.5], [0, 1]) == 1.0


def test_correlations():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [1, 10, 100]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [1, 10, 100]) < 1.0
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3])) and math.isnan(spearman([1, 2, 3], [5, 5, 5]))


# ------------------------------------------------------------------ list sets
def test_catalogue_coverage():
    assert catalogue_coverage([["a", "b"], ["b", "c"], []], 4) == 0.75
    assert catalogue_coverage([], 4) == 0.0
    with pytest.raises(InvalidOptionError, match="more than"):
        catalogue_coverage([["a", "b", "c"]], 2)


def test_intra_list_similarity_three_ways_agree():
    vectors = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8], [0.0, 0.0, 1.0]])
    lists = [[0, 1, 2], [2, 3], [1]]  # the one-item list is skipped
    expected = np.mean([(0.6 + 0.0 + 0.48) / 3, 0.8])
    pairwise = vectors @ vectors.T
    assert intra_list_similarity_rows(lists, vectors) == pytest.approx(expected)
    assert intra_list_similarity_rows(lists, sp.csr_matrix(vectors)) == pytest.approx(expected)
    assert intra_list_similarity(lists, pairwise) == pytest.approx(expected)
    assert intra_list_similarity(lists, sp.csr_matrix(pairwise)) == pytest.approx(expected)
    assert intra_list_similarity(lists, lambda a, b: float(vectors[a] @ vectors[b])) == pytest.approx(expected)
    assert math.isnan(intra_list_similarity_rows([[0], []], vectors))
    with pytest.raises(InvalidOptionError, match="square"):
        intra_list_similarity(lists, vectors)


def test_novelty_and_popularity_bias():
    counts = {"hit": 6, "mid": 2, "niche": 0}
    assert novelty([["hit"]], counts) == pytest.approx(-math.log2(6 / 8))
    assert novelty([["niche"], ["unknown"]], counts) == pytest.approx(3.0)  # no interaction = one of 8
    assert novelty([["hit", "mid"], []], counts) == pytest.approx((-math.log2(6 / 8) - math.log2(2 / 8)) / 2)
    assert math.isnan(novelty([[]], counts))
    # percentiles over the catalogue: niche 1/6, mid 1/2, hit 5/6; the catalogue averages 1/2
    assert popularity_bias([["hit"]], counts) == pytest.approx(5 / 6)
    assert popularity_bias([["niche", "mid", "hit"]], counts) == pytest.approx(0.5)
    assert popularity_bias([["a", "b"]], {"a": 1, "b": 1}) == pytest.approx(0.5)  # ties share


def test_near_duplicate_rate():
    def same_story(a, b):
        return a[0] == b[0]

    assert near_duplicate_rate([["a1", "b1"], ["a1", "a2"], ["c1", "c1"], []], same_story) == 0.5
    assert math.isnan(near_duplicate_rate([], same_story))
    vectors = sp.csr_matrix(np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0]]))
    assert near_duplicate_rate_rows([[0, 1], [0, 2], [2, 2], [1]], vectors, 0.9) == 0.5
    assert near_duplicate_rate_rows([[0, 1]], vectors, 0.97) == 0.0
    with pytest.raises(InvalidOptionError):
        near_duplicate_rate_rows([[0, 1]], vectors, 2.0)


# ------------------------------------------------------------------ properties
ids = st.lists(st.integers(0, 20), max_size=15)
relevant_sets = st.sets(st.integers(0, 20), min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@given(ids, relevant_sets, st.integers(1, 20))
def test_ranking_metrics_lie_in_the_unit_interval(recommended, relevant, k):
    for metric in RANKING:
        assert 0.0 <= metric(recommended, relevant, k) <= 1.0 + 1e-12
    for metric in UNBOUNDED:
        assert 0.0 <= metric(recommended, relevant) <= 1.0 + 1e-12
        assert 0.0 <= metric(recommended, relevant, k=k) <= 1.0 + 1e-12


@settings(max_examples=300, deadline=None)
@given(ids, relevant_sets, st.integers(1, 20))
def test_precision_times_k_counts_the_hits(recommended, relevant, k):
    hits = len(set(recommended[:k]) & relevant)
    assert precision_at_k(recommended, relevant, k) * k == pytest.approx(hits)
    assert recall_at_k(recommended, relevant, k) * len(relevant) == pytest.approx(hits)
    assert hit_rate_at_k(recommended, relevant, k) == float(hits > 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), max_size=6), max_size=6), st.dictionaries(st.integers(0, 9), st.integers(0, 50)))
def test_list_set_metrics_lie_in_range(lists, counts):
    assert 0.0 <= catalogue_coverage(lists, 10) <= 1.0
    rate = near_duplicate_rate(lists, lambda a, b: False)
    assert math.isnan(rate) if not lists else 0.0 <= rate <= 1.0
    if counts:
        bias = popularity_bias(lists, counts)
        assert math.isnan(bias) or 0.0 <= bias <= 1.0
    if sum(counts.values()) > 0:
        value = novelty(lists, counts)
        assert math.isnan(value) or value >= 0.0
