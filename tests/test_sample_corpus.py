"""Known answers on the bundled sample corpus: story clusters, the republished wire story."""

from __future__ import annotations

import itertools

import numpy as np

from recommender.datasets import sample_reaction_counts_path, sample_reactions_path


def ids(hits):
    return [hit.article_id for hit in hits]


def test_corpus_is_what_the_ground_truth_says(sample_articles, stories):
    held = {a.id for a in sample_articles}
    listed = [i for members in stories["stories"].values() for i in members]
    listed += [i for group in stories["near_duplicates"] for i in group] + stories["standalone"]
    assert sorted(listed) == sorted(held)
    assert len(stories["stories"]) >= 10 and len({a.section for a in sample_articles}) >= 6
    assert sample_reactions_path().exists() and sample_reaction_counts_path().exists()


def test_story_members_find_each_other(sample_model, stories):
    found = total = 0
    for members in stories["stories"].values():
        for article_id in members:
            mates = set(members) - {article_id}
            hits = ids(sample_model.related(article_id, k=10))
            # the first len(mates) places are mostly the story's own articles
            assert len(mates & set(hits[: len(mates)])) >= 0.75 * len(mates), (article_id, hits)
            found += len(mates & set(hits))
            total += len(mates)
    assert found / total >= 0.98


def test_republished_wire_copies_never_appear_in_each_others_lists(sample_model, stories):
    for group in stories["near_duplicates"]:
        for article_id in group:
            assert not set(group) & set(ids(sample_model.related(article_id, k=10)))


def test_no_list_holds_two_copies_of_one_story(sample_model, stories):
    copies = [set(group) for group in stories["near_duplicates"]]
    query = sample_model.related_to_text("Bronze Age boat pulled from bog", "log boat found in the peat bog by archaeologists")
    assert len(copies[0] & set(ids(query))) == 1
    for article_id in sample_model.article_ids:
        hits = set(ids(sample_model.related(article_id, k=10)))
        assert all(len(group & hits) <= 1 for group in copies)


def test_related_lists_hold_no_near_duplicate_pairs(sample_model):
    vectors = sample_model.index_.vectors
    for article_id in sample_model.article_ids[:40]:
        rows = sample_model.catalog_.rows(ids(sample_model.related(article_id, k=10)))
        if len(rows) > 1:
            similarity = (vectors[rows] @ vectors[rows].T).toarray()
            np.fill_diagonal(similarity, 0)
            assert similarity.max() < sample_model.duplicate_threshold


def test_lists_are_deterministic(sample_model, sample_articles):
    from recommender import Recommender

    again = Recommender().fit(sample_articles)
    for article_id in itertools.islice(sample_model.article_ids, 0, None, 7):
        assert again.related(article_id) == sample_model.related(article_id)


def test_the_same_story_comes_first(sample_model, stories):
    for members in stories["stories"].values():
        for article_id in members:
            first = sample_model.related(article_id, k=10)[0]
            assert first.article_id in members, (article_id, first)


def test_the_story_tier_marks_same_story_hits(sample_model, stories):
    story_of = {article_id: name for name, members in stories["stories"].items() for article_id in members}
    marked = same_marked = same_total = 0
    for article_id in sample_model.article_ids:
        for hit in sample_model.related(article_id, k=10):
            assert hit.tier in ("story", "related")
            same = story_of.get(article_id) is not None and story_of.get(hit.article_id) == story_of.get(article_id)
            marked += hit.tier == "story"
            same_marked += same and hit.tier == "story"
            same_total += same
    assert marked and same_marked / marked >= 0.95  # marked hits really are the same story
    assert same_marked / same_total >= 0.7  # and most same-story hits are marked


def test_only_related_hits_carry_a_tier(sample_model):
    article_id = sample_model.article_ids[0]
    page = sample_model.page(article_id)
    assert all(hit.tier for hit in page.related)
    assert not any(hit.tier for hit in page.ranking + page.recommendation)
    draft = sample_model.related_to_text("Aldermere film festival opens", "The Aldermere film festival opened.")
    assert draft and all(hit.tier in ("story", "related") for hit in draft)


def test_shared_closest_neighbours_lift_a_pair(sample_articles):
    """The core term only adds: a pair's score with it is at least its anchored score, and the
    pairs it lifts are pairs whose closest neighbours coincide."""
    from recommender import Recommender

    anchored = Recommender(core_weight=0.0, time_scale_days=None).fit(sample_articles)
    default = Recommender(time_scale_days=None).fit(sample_articles)  # the text-only score
    ids_ = default.article_ids
    lifted = default.similarity(ids_) - anchored.similarity(ids_)
    assert lifted.min() >= 0 and lifted.max() > 0.05
    core = default.profiles_.core_of_rows(np.arange(len(ids_))).toarray()
    np.testing.assert_allclose(lifted, 0.5 * core, atol=1e-5)
