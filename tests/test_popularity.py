"""Popularity: decay, smoothing, trending, filters, incremental updates, reaction policies."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from recommender import (
    InvalidInputError,
    InvalidOptionError,
    Reaction,
    Recommender,
    load_reactions,
)
from recommender._kept import KeptPerOwner
from recommender._popularity import HOUR, PopularityConfig, PopularityState

from .conftest import make_article

T0 = datetime(2026, 10, 10, 12, 0, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ids(hits):
    return [hit.article_id for hit in hits]


# ------------------------------------------------------------------ the pure state
def test_mass_halves_at_one_half_life_for_every_tracked_half_life():
    state = PopularityState(PopularityConfig(half_life_hours=6.0, trend_half_lives=(1.0, 24.0)), 1)
    state.record(np.array([0]), np.array([8.0]), np.array([0.0]))
    np.testing.assert_allclose(state.masses_at(np.array([0]), 6 * HOUR)[0, 0], 4.0)
    np.testing.assert_allclose(state.masses_at(np.array([0]), 1 * HOUR)[0, 1], 4.0)
    np.testing.assert_allclose(state.masses_at(np.array([0]), 24 * HOUR)[0, 2], 4.0)
    np.testing.assert_allclose(state.masses_at(np.array([0]), 1e6 * HOUR)[0, 3], 8.0)  # undecayed total


def test_incremental_batches_equal_one_batch_in_any_order():
    rng = np.random.default_rng(0)
    rows, weights, times = rng.integers(0, 5, 300), rng.random(300) * 3, rng.random(300) * 100 * HOUR
    whole = PopularityState(PopularityConfig(), 5)
    whole.record(rows, weights, times)
    parts = PopularityState(PopularityConfig(), 5)
    for chunk in np.array_split(rng.permutation(300), 7):
        parts.record(rows[chunk], weights[chunk], times[chunk])
    now = 120 * HOUR
    np.testing.assert_allclose(parts.masses_at(np.arange(5), now), whole.masses_at(np.arange(5), now), rtol=1e-9)


@pytest.mark.parametrize("half_life", [6.0, math.inf])
def test_popular_scores_have_the_bits_of_the_full_computation(half_life):
    state = PopularityState(PopularityConfig(half_life_hours=half_life))
    rng = np.random.default_rng(3)
    n = 3_000
    state.grow(n)
    times = 1_800_000_000 + rng.uniform(0, 10 * 86_400, 40_000)
    state.record(rng.integers(0, n - 50, 40_000), rng.lognormal(0, 1, 40_000), times)  # the last 50: no reactions
    now = float(times.max()) + 3_600
    published = 1_800_000_000 + rng.uniform(-86_400, 10 * 86_400, n)
    for rows in (np.arange(n), rng.permutation(n)[:777], np.array([n - 1])):
        masses, exposure = state.masses_at(rows, now), state.exposure(published[rows], now)
        site_rate = masses.sum(axis=0) / np.maximum(exposure.sum(axis=0), 1e-9)
        full = ((masses + state.config.prior_hours * site_rate) / (exposure + state.config.prior_hours))[:, 0]
        assert np.array_equal(state.scores(rows, published[rows], now, "popular"), full)


def test_exposure_formula():
    state = PopularityState(PopularityConfig(half_life_hours=6.0), 1)
    exposure = state.exposure(np.array([0.0]), 6 * HOUR)
    np.testing.assert_allclose(exposure[0, 0], 6 / np.log(2) * 0.5)  # half of the limit h/ln2 after one half-life
    np.testing.assert_allclose(exposure[0, 3], 6.0)  # undecayed: plain hours


# ------------------------------------------------------------------ through the model
@pytest.fixture()
def site():
    articles = [
        make_article("burst", "Two quick reactions", "Tiny burst story about harbour cranes.", 10, "local"),
        make_article("steady", "Five hundred in an hour", "Big steady story about the election.", 10, "politics"),
        make_article("old", "Old favourite", "A story from long ago about a festival.", 1, "culture"),
        make_article("quiet", "Nobody reacted", "Quiet story about a library.", 10, "local"),
    ]
    for article in articles:  # all published at T0 except "old"
        if article["id"] != "old":
            article["published_at"] = T0.isoformat()
    return Recommender().fit(articles)


def events(article_id, n, start_hours, span_hours, reaction="good"):
    return [Reaction(article_id, reaction, 1, at(start_hours + span_hours * i / max(n, 1))) for i in range(n)]


def test_smoothing_two_in_a_minute_does_not_beat_five_hundred_in_an_hour(site):
    site.record_reactions(events("steady", 500, 0, 1.0) + events("burst", 2, 1.0, 1 / 60), now=at(2))
    assert ids(site.ranking(now=at(1 + 1 / 60))) == ["steady", "burst"]


def test_age_limit_and_stories_without_reactions(site):
    site.record_reactions(events("old", 900, -200, 1) + events("steady", 3, 0, 1), now=at(2))
    assert ids(site.ranking(now=at(2))) == ["steady"]  # "old" is beyond 7 days; "quiet" has no reactions
    assert ids(site.ranking(now=at(-199))) == ["old"]


def test_section_filter_and_exclude(site):
    site.record_reactions(events("steady", 50, 0, 1) + events("burst", 5, 0, 1), now=at(2))
    assert ids(site.ranking(section="local", now=at(2))) == ["burst"]
    assert ids(site.ranking(now=at(2), exclude=["steady"])) == ["burst"]
    assert site.ranking(section="no-such-section", now=at(2)) == []


def test_fixed_now_gives_fixed_lists_and_ties_break_by_id(site):
    site.record_reactions(events("steady", 5, 0, 1) + events("burst", 5, 0, 1), now=at(2))
    first = site.ranking(now=at(3))
    assert ids(first) == ["burst", "steady"] and first[0].score == first[1].score
    assert site.ranking(now=at(3)) == first


def test_scores_kept_for_a_moment_follow_every_change_of_state(site):
    site.record_reactions(events("steady", 50, 0, 1) + events("burst", 5, 0, 1), now=at(2))
    first = site.ranking(now=at(3))
    assert site.ranking(now=at(3)) == first  # the second call reads the scores kept for at(3)
    assert ids(site.ranking(section="local", now=at(3))) == ["burst"]  # a section is kept apart
    site.record_reactions(events("burst", 900, 2, 0.5), now=at(3))  # a new state: new scores at the same moment
    assert ids(site.ranking(now=at(3))) == ["burst", "steady"]
    site.remove_articles(["burst"])
    assert ids(site.ranking(now=at(3))) == ["steady"]
    site.block("steady")  # hidden rows: scored apart, never kept
    assert site.ranking(now=at(3)) == []


def test_trending_rewards_a_story_speeding_up_against_its_own_past(site):
    site.record_reactions(events("steady", 400, 0, 20) + events("burst", 40, 0, 20) + events("burst", 60, 23, 1),
                          now=at(30))
    assert ids(site.ranking(now=at(24), mode="trending"))[0] == "burst"
    assert ids(site.ranking(now=at(24), mode="popular"))[0] == "steady"
    assert "usual" in site.ranking(now=at(24), mode="trending")[0].explanation


def test_gravity_decay_is_the_hacker_news_formula(tiny_articles):
    rec = Recommender(decay="gravity", gravity=1.8).fit(tiny_articles)
    now = datetime(2026, 10, 21, 9, 0, tzinfo=timezone.utc)  # cup-2 is 1 day old, port-3 6 days
    rec.record_reactions([Reaction("cup-2", "good", 10, now - timedelta(hours=1)),
                          Reaction("port-3", "good", 100, now - timedelta(hours=2))], now=now)
    hits = {h.article_id: h.score for h in rec.ranking(now=now)}
    assert hits["cup-2"] == pytest.approx(10 / (24 + 2) ** 1.8)
    assert hits["port-3"] == pytest.approx(100 / (6 * 24 + 2) ** 1.8)


def test_reaction_weights_and_unknown_types(tiny_articles):
    now = datetime(2026, 10, 16, tzinfo=timezone.utc)
    strict = Recommender(reaction_weights={"good": 1.0, "sad": 0.5}).fit(tiny_articles)
    with pytest.raises(InvalidInputError, match="unknown reaction type 'meh'"):
        strict.record_reactions([Reaction("port-3", "meh", 1, now)], now=now)
    lenient = Recommender(reaction_weights={"good": 1.0, "sad": 0.5}, unknown_reactions="ignore").fit(tiny_articles)
    report = lenient.record_reactions([Reaction("port-3", "meh", 2, now), Reaction("port-3", "sad", 4, now)], now=now)
    assert (report.applied, report.ignored, report.ignored_types) == (1, 1, {"meh": 1})
    assert lenient.popularity_.totals(np.array([lenient.catalog_.row("port-3")]))[0] == 2.0


def test_reactions_for_unknown_articles_wait_for_the_article(tiny_articles):
    now = datetime(2026, 10, 16, tzinfo=timezone.utc)
    rec = Recommender().fit(tiny_articles)
    report = rec.record_reactions([Reaction("late", "good", 7, now)], now=now)
    assert (report.applied, report.pending) == (0, 1)
    rec.add_articles([make_article("late", "Late arrival", "harbour story arrives late", 15)])
    assert ids(rec.ranking(now=now)) == ["late"]


def test_bad_reactions_are_refused_naming_the_record(tiny_articles, tmp_path):
    now = datetime(2026, 10, 16, tzinfo=timezone.utc)
    rec = Recommender().fit(tiny_articles)
    with pytest.raises(InvalidInputError, match="future"):
        rec.record_reactions([Reaction("port-3", "good", 1, now + timedelta(days=1))], now=now)
    source = tmp_path / "r.csv"
    source.write_text("article_id,reaction,count\nport-3,good,4\nport-3,sad,-2\n")
    with pytest.raises(InvalidInputError, match=r"r.csv:3.*negative"):
        load_reactions(source)
    source.write_text("article_id,reaction,at\nport-3,good,2026-10-10T10:00:00\n")
    with pytest.raises(InvalidInputError, match=r"r.csv:2.*time zone"):
        load_reactions(source)
    errors: list = []
    source.write_text("article_id,reaction,count\nport-3,good,4\nport-3,sad,x\n,good,1\n")
    assert len(load_reactions(source, errors=errors)) == 1 and len(errors) == 2


def test_counts_without_time_are_dated_at_publication(tiny_articles):
    rec = Recommender().fit(tiny_articles)
    rec.record_reactions([{"article_id": "port-3", "reaction": "good", "count": 9}])
    row = rec.catalog_.row("port-3")
    assert rec.popularity_.last[row] == rec.catalog_.published[row]


def test_bad_ranking_arguments(site):
    with pytest.raises(InvalidOptionError, match="time zone"):
        site.ranking(now=datetime(2026, 10, 10))
    with pytest.raises(InvalidOptionError):
        site.ranking(mode="hot")
    with pytest.raises(InvalidOptionError):
        site.ranking(k=0)
    with pytest.raises(InvalidOptionError):
        Recommender(decay="linear").fit([make_article("a", "t", "b")])


def test_sample_reactions_give_a_plausible_ranking(sample_articles):
    from recommender.datasets import sample_reactions_path

    rec = Recommender().fit(sample_articles, reactions=load_reactions(sample_reactions_path()))
    assert rec.reaction_report_.applied == 6301 - rec.reaction_report_.pending
    now = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)
    hits = rec.ranking(k=8, now=now)
    assert 5 <= len(hits) <= 8 and all(h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    week_ago = now - timedelta(days=7)
    for hit in hits:
        assert datetime.fromisoformat(rec.article_metadata(hit.article_id)["published_at"]) >= week_ago


def test_trending_does_not_lift_stories_readers_left(site):
    # "steady" got its reactions four days ago and none since; "burst" is getting them now
    site.record_reactions(events("steady", 30, 0, 2) + events("burst", 5, 90, 1) + events("burst", 20, 95, 1),
                          now=at(97))
    hits = {h.article_id: h.score for h in site.ranking(now=at(96), mode="trending")}
    assert hits["steady"] < 1 < hits["burst"]


def test_lists_walking_the_ordered_prefix_equal_lists_sorting_every_candidate(monkeypatch):
    """Ranking reads the best rows of a window in list order (``ORDERED_ROWS`` of them) and
    sorts candidates only when a walk needs more: both give the same lists, ties by id."""
    import recommender._ranking as ranking

    articles = [make_article(f"a{i:02d}", f"Story {i}", " ".join(f"w{i}t{j}" for j in range(8)), 10,
                             "local" if i % 2 else "politics") for i in range(40)]  # no two alike
    for article in articles:
        article["published_at"] = T0.isoformat()
    rec = Recommender().fit(articles)
    reactions = [Reaction(f"a{i:02d}", "good", 1 + (i * 7) % 11, at(1)) for i in range(40)]  # many ties
    rec.record_reactions(reactions, now=at(2))

    def lists():
        return [ids(rec.ranking(k=k, now=at(3), exclude=exclude)) for k in (1, 5, 12, 40)
                for exclude in ([], [f"a{i:02d}" for i in range(0, 40, 3)])]

    monkeypatch.setattr(ranking, "ORDERED_ROWS", 1_000)  # every row ordered
    everything = lists()
    for ordered in (1, 10, 20, 30):  # prefixes a walk reads, outgrows, or never uses; some end on a tie
        monkeypatch.setattr(ranking, "_scored_windows", KeptPerOwner(ranking.KEPT_WINDOWS))
        monkeypatch.setattr(ranking, "ORDERED_ROWS", ordered)
        assert lists() == everything
    assert all(len(found) for found in everything) and len(everything[-2]) == 40
    counts = {f"a{i:02d}": 1 + (i * 7) % 11 for i in range(40)}
    assert everything[4] == sorted(counts, key=lambda a: (-counts[a], a))[:12]  # k=12: by count, ties by id
