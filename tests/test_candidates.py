"""The Recommendation candidate pool: its cosines and scales equal the whole-archive products."""

from __future__ import annotations


import numpy as np
import pytest

from recommender import Recommender
from recommender._candidates import candidate_pool, reading_profile
from recommender._distinct import by_score_then_id
from recommender._options import BlendWeights
from recommender._recommend import RecommendQuery
from recommender.datasets import SAMPLE_NOW
from recommender._time import epoch_seconds


def _query(state, article_row, history_rows, exclude=()):
    return RecommendQuery(
        k=8, now=float(epoch_seconds(SAMPLE_NOW)), article_row=article_row,
        history_rows=np.asarray(history_rows, dtype=np.int64),
        exclude_rows=np.asarray([*exclude, *history_rows, *([] if article_row is None else [article_row])],
                                dtype=np.int64),
        weights=BlendWeights(), diversity=0.3, freshness_half_life_hours=48.0, history_half_life=5.0,
        duplicate_threshold=0.8)


@pytest.mark.parametrize("article", [0, 7, 41])
def test_pool_cosines_and_scales_equal_the_archive_products(sample_model, article):
    state = sample_model._state
    history = [3, 19, 60]
    pool = candidate_pool(state, _query(state, article, history))
    to_article = state.index.scores(state.index.row_vector(article)).astype(np.float64)
    to_article[to_article >= 0.8] = 0.0
    assert pool.article == pytest.approx(to_article[pool.rows], abs=1e-6)
    assert pool.article_top == pytest.approx(to_article.max(), abs=1e-6)  # exact: read from the profile
    to_profile = state.index.scores(reading_profile(state.index, np.array(history), 5.0)).astype(np.float64)
    to_profile[to_profile >= 0.8] = 0.0
    assert pool.history == pytest.approx(to_profile[pool.rows], abs=1e-5)
    assert pool.history_top == pytest.approx(to_profile.max(), abs=1e-5)  # exact: bound or archive product
    top_by_profile = np.argsort(-to_profile)[:5]
    assert np.isin(top_by_profile, pool.rows).all()  # the reader's closest stories are candidates
    assert pool.reads == pytest.approx((state.index.select(pool.rows) @ state.index.select(history).T).toarray(),
                                       abs=1e-6)


def test_near_duplicates_of_avoided_rows_are_blocked(sample_model):
    state = sample_model._state
    cosines = state.index.scores(state.index.row_vector(5))
    pool = candidate_pool(state, _query(state, None, [], exclude=[5]))
    expected = (cosines[pool.rows] >= 0.8) | (pool.rows == 5)
    assert np.array_equal(pool.blocked, expected)


@pytest.mark.parametrize("options", [{}, {"neighbours": 1}, {"neighbours": 0}])
def test_near_duplicates_of_a_page_s_stories_are_blocked_from_pairs_or_cosines(sample_articles, options):
    # neighbours=1: a wire story's profile holds one of its two copies, so its bound reaches the
    # threshold and its near-duplicates are computed, not read from the profiles' pairs
    model = Recommender(**options).fit(sample_articles)
    state = model._state
    wire = [state.catalog.row(article_id) for article_id in ("a004", "a018", "a054")]
    taken = [wire[0], *range(20, 30)]
    for article in (wire[1], 7):
        pool = candidate_pool(state, _query(state, article, [3, 19], exclude=taken))
        avoid = np.array([*taken, 3, 19, article])
        cosines = (state.index.select(pool.rows) @ state.index.select(avoid).T).toarray()
        expected = np.isin(pool.rows, avoid) | (cosines.max(axis=1) >= 0.8)
        assert np.array_equal(pool.blocked, expected)
        assert pool.blocked[np.isin(pool.rows, wire)].all() or not np.isin(pool.rows, wire).any()


def test_a_model_without_profiles_scores_the_same(sample_articles):
    with_profiles = Recommender().fit(sample_articles)
    without = Recommender(neighbours=0).fit(sample_articles)
    history = without.article_ids[10:13]
    for model in (with_profiles, without):
        assert len(model.recommend(model.article_ids[2], history=history, now=SAMPLE_NOW)) == 8
    state = without._state
    pool = candidate_pool(state, _query(state, 2, [10, 11, 12]))
    to_article = state.index.scores(state.index.row_vector(2)).astype(np.float64)
    to_article[to_article >= 0.8] = 0.0
    assert pool.article_top == pytest.approx(to_article.max(), abs=1e-6)


def test_ties_break_by_article_id(sample_model):
    catalog = sample_model._state.catalog
    rows = np.array([4, 1, 3, 2, 0])
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    order = by_score_then_id(rows, scores, catalog)
    expected = sorted(range(5), key=lambda i: (-scores[i], catalog.id(rows[i])))
    assert order.tolist() == expected


def test_relevance_of_given_candidates_matches_the_list(sample_model, sample_articles):
    article, history = sample_model.article_ids[0], sample_model.article_ids[20:23]
    hits = sample_model.recommend(article, history=history, now=SAMPLE_NOW)
    relevance = sample_model._relevance([h.article_id for h in hits], history, now=SAMPLE_NOW, article_id=article)
    assert relevance == pytest.approx([h.score for h in hits])


def test_the_popular_signal_reads_the_ranking_list_s_scores(sample_articles):
    """One scoring per moment serves both lists: the pool's popular scores are the Ranking
    list's, and a removed story takes no part in either (nor in the site mean they share)."""
    from recommender._candidates import popular_window
    from recommender.datasets import sample_reactions_path

    rec = Recommender().fit(sample_articles, reactions=sample_reactions_path(), now=SAMPLE_NOW)
    top = rec.ranking(k=1, now=SAMPLE_NOW)[0].article_id
    rec.remove_articles([top])
    state, now = rec._state, float(epoch_seconds(SAMPLE_NOW))
    hits = rec.ranking(k=100, now=SAMPLE_NOW)
    window = popular_window(state, now)
    assert len(hits) > 5 and top not in {hit.article_id for hit in hits}
    rows = np.array([state.catalog.row(hit.article_id) for hit in hits])
    assert window.of(rows).tolist() == [hit.score for hit in hits]
    assert top not in state.catalog.ids_of(window.rows)
