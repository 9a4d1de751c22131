"""The synthetic corpus generator: deterministic, realistic enough, and with recoverable stories."""

from __future__ import annotations

import collections
import itertools
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from recommender import InvalidOptionError, Recommender, load_articles
from recommender.evaluation.synthetic import SECTIONS, generate_articles, generate_reactions


@pytest.fixture(scope="module")
def corpus():
    return list(generate_articles(2000, seed=3))


def _stories(articles):
    members = collections.defaultdict(list)
    for article in articles:
        if article["story"] is not None:
            members[article["story"]].append(article["id"])
    return members


def test_same_seed_same_articles_other_seed_other_articles():
    first = list(generate_articles(300, seed=11))
    assert first == list(generate_articles(300, seed=11))
    other = list(generate_articles(300, seed=12))
    assert [a["body"] for a in first] != [a["body"] for a in other]


def test_articles_are_valid_library_input(corpus):
    articles = load_articles(corpus)  # raises on any bad record
    assert len(articles) == len(corpus)
    assert len({a["id"] for a in corpus}) == len(corpus)
    assert all(a.published_at.tzinfo is not None for a in articles)
    times = [a.published_at for a in articles]
    assert times == sorted(times)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert start <= times[0] and times[-1] <= start + timedelta(days=60)
    assert {a["section"] for a in corpus} == set(SECTIONS)
    assert all(isinstance(a["tags"], list) and a["tags"] for a in corpus)


def test_body_lengths_are_lognormal_around_the_median(corpus):
    words = np.array([len(a["body"].split()) for a in corpus])
    assert 0.9 * 400 <= np.median(words) <= 1.1 * 400
    assert 0.45 <= np.log(words).std() <= 0.75  # length_sigma=0.6
    short = [len(a["body"].split()) for a in generate_articles(500, seed=3, median_words=120)]
    assert 0.85 * 120 <= np.median(short) <= 1.15 * 120


def test_vocabulary_is_zipfian_and_keeps_growing(corpus):
    tokens = [w.lower() for a in corpus for w in re.findall(r"\w\w+", a["body"])]
    counts = np.array(sorted(collections.Counter(tokens).values(), reverse=True))
    assert counts[0] > 20 * counts[99] > 0  # a steep head
    seen = [len(set(tokens[: len(tokens) * share // 8])) for share in (1, 2, 4, 8)]
    assert seen[0] < seen[1] < seen[2] < seen[3]  # Heaps' law: new words keep coming
    assert seen[3] > 1.3 * seen[1]


def test_story_clusters_have_2_to_30_articles_published_close_together(corpus):
    members = _stories(corpus)
    sizes = [len(ids) for ids in members.values()]
    assert len(sizes) > 50
    assert min(sizes) >= 2 and max(sizes) <= 30
    in_stories = sum(sizes) / len(corpus)
    assert 0.4 <= in_stories <= 0.7  # story_share=0.6, minus what no whole story fits into
    published = {a["id"]: datetime.fromisoformat(a["published_at"]) for a in corpus}
    spans = [max(published[i] for i in ids) - min(published[i] for i in ids) for ids in members.values()]
    assert np.median([s.total_seconds() for s in spans]) < 7 * 86400


def test_related_lists_find_same_story_articles(corpus):
    model = Recommender().fit(corpus)
    members = _stories(corpus)
    story_of = {a["id"]: a["story"] for a in corpus}
    recalls = []
    for article_id in itertools.islice((i for i in story_of if story_of[i] is not None), 300):
        mates = set(members[story_of[article_id]]) - {article_id}
        found = {hit.article_id for hit in model.related(article_id, k=10)}
        recalls.append(len(found & mates) / min(10, len(mates)))
    chance = 10 / len(corpus)
    assert np.mean(recalls) > 0.7 > 100 * chance


def test_generation_streams():
    stream = generate_articles(1_000_000, seed=5)
    first = list(itertools.islice(stream, 3))  # only per-article integers are planned up front
    assert [a["id"] for a in first] == ["syn-0000000", "syn-0000001", "syn-0000002"]


def test_reactions_are_deterministic_and_follow_publication(corpus):
    articles = corpus[:200]
    events = list(generate_reactions(articles, seed=1))
    assert events == list(generate_reactions(articles, seed=1))
    published = {a["id"]: datetime.fromisoformat(a["published_at"]) for a in articles}
    assert 0.5 * 8 * len(articles) < len(events) < 2 * 8 * len(articles)
    assert all(datetime.fromisoformat(e["at"]) >= published[e["article_id"]] for e in events)
    assert {e["reaction"] for e in events} == {"veryGood", "good", "sad", "angry"}


@pytest.mark.parametrize(
    "options",
    [{"n": -1}, {"n": 10, "days": 0}, {"n": 10, "median_words": 1}, {"n": 10, "story_share": 1.5},
     {"n": 10, "start": datetime(2026, 1, 1)}],
)
def test_bad_options_raise(options):
    with pytest.raises(InvalidOptionError):
        generate_articles(**options)
