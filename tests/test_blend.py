"""Recommendation lists and whole pages: history, diversity, uniqueness, cold starts, determinism."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from recommender import InvalidOptionError, Page, Recommender, UnknownArticleError, load_reactions
from recommender.datasets import sample_reactions_path

NOW = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def site(sample_articles):
    return Recommender().fit(sample_articles, reactions=load_reactions(sample_reactions_path()))


@pytest.fixture(scope="module")
def story_of(stories):
    label = {i: s for s, members in stories["stories"].items() for i in members}
    for group in stories["near_duplicates"]:
        label.update({i: "wire" for i in group})
    return lambda article_id: label.get(article_id, article_id)


def ids(hits):
    return [hit.article_id for hit in hits]


def test_history_drives_the_list_toward_the_readers_stories(site, stories, story_of):
    for story, members in stories["stories"].items():
        history = members[:2]
        with_history = [story_of(i) for i in ids(site.recommend(history=history, now=NOW))]
        without = [story_of(i) for i in ids(site.recommend(now=NOW))]
        assert with_history.count(story) >= 1, story
        assert with_history.count(story) >= without.count(story)
        assert not set(history) & set(ids(site.recommend(history=history, now=NOW)))  # read stories never return


def test_top_four_come_from_different_stories(site, stories, story_of):
    histories = [(), tuple(next(iter(stories["stories"].values()))[:2])]
    for article_id in site.article_ids:
        for history in histories:
            top = [story_of(i) for i in ids(site.recommend(article_id, history=history, now=NOW))[:4]]
            assert len(set(top)) == len(top), (article_id, top)


def test_every_sample_page_shows_each_story_once(site, stories):
    copies = [set(group) for group in stories["near_duplicates"]]
    for article_id in site.article_ids:
        page = site.page(article_id, history=stories["standalone"][:2], now=NOW)
        assert isinstance(page, Page)
        shown = ids(page.related) + ids(page.ranking) + ids(page.recommendation)
        assert len(shown) == len(set(shown)) and article_id not in shown
        assert all(len(group & set(shown) | (group & {article_id})) <= 1 for group in copies), article_id
        assert len(page.recommendation) == 8 and len(page.related) <= 10 and len(page.ranking) <= 8


def test_page_lists_are_back_filled(sample_articles, stories):
    site = Recommender(ranking_max_age=timedelta(days=60))
    site.fit(sample_articles, reactions=load_reactions(sample_reactions_path()))
    for story in stories["stories"].values():
        page = site.page(story[0], now=NOW)
        alone = ids(site.ranking(k=8, now=NOW))
        assert len(page.ranking) == len(alone) == 8  # items Related took were replaced by the next ones
        assert not set(ids(page.ranking)) & set(ids(page.related))


def test_cold_starts_get_full_lists(site, sample_articles):
    assert len(site.recommend(now=NOW)) == 8  # new reader, no article (home page)
    fresh = Recommender().fit(sample_articles)  # no reactions at all
    assert len(fresh.recommend(site.article_ids[0], now=NOW)) == 8
    site_copy = Recommender().fit(sample_articles)
    site_copy.add_articles([{"id": "brand-new", "title": "Quiet knitting circle meets", "section": "hobbies",
                             "body": "A knitting circle met in the hall.", "published_at": NOW - timedelta(hours=1)}])
    page = site_copy.page("brand-new", now=NOW)  # new article, new (otherwise empty) section, no reactions
    assert len(page.recommendation) == 8


def test_fixed_now_is_deterministic_and_future_stories_wait(site, sample_articles):
    assert site.recommend("a005", history=["a050"], now=NOW) == site.recommend("a005", history=["a050"], now=NOW)
    early = datetime(2026, 10, 5, tzinfo=timezone.utc)
    published = {a.id: a.published_at for a in sample_articles}
    assert all(published[i] <= early for i in ids(site.recommend(now=early)))


def test_explanations_say_why(site, stories):
    reader = stories["stories"]["varnesia-election"][:3]
    hits = site.recommend(history=reader, now=NOW)
    reasons = " | ".join(h.explanation for h in hits)
    assert "because you read" in reasons and ("popular" in reasons or "new" in reasons)
    hits = site.recommend(stories["stories"]["halcyon-probe-launch"][0], now=NOW)
    assert any(h.explanation.startswith("like this article: shares") and h.terms for h in hits)


def test_bad_arguments(site):
    with pytest.raises(UnknownArticleError):
        site.recommend("nope", now=NOW)
    with pytest.raises(InvalidOptionError):
        site.recommend(history="a001", now=NOW)
    with pytest.raises(InvalidOptionError):
        site.recommend(k=0, now=NOW)
    with pytest.raises(InvalidOptionError):
        site.page("a001", now=datetime(2026, 11, 1))
    assert site.recommend(history=["unknown-id"], now=NOW) == site.recommend(now=NOW)
    for bad in ({"blend_weights": {"colour": 1}}, {"blend_weights": {"article": -1}}, {"diversity": 1.0},
                {"story_threshold": 0}):
        with pytest.raises(InvalidOptionError):
            Recommender(**bad).fit([{"id": "a", "title": "t", "body": "b", "published_at": NOW}])


def test_blend_weights_change_the_mix(sample_articles):
    reactions = load_reactions(sample_reactions_path())
    popular_only = Recommender(blend_weights={"article": 0, "history": 0, "history_max": 0, "section": 0,
                                              "subsection": 0, "popularity": 1, "freshness": 0})
    popular_only.fit(sample_articles, reactions=reactions)
    assert all(h.explanation.startswith("popular") for h in popular_only.recommend(now=NOW)[:4])
