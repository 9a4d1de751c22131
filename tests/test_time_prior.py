"""The time-proximity prior of the Related score (``time_scale_days``, ``time_floor``)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from recommender import Recommender
from recommender.datasets import sample_stories
from recommender.exceptions import InvalidOptionError
from recommender._related.time_prior import AUTO_SCALE_DAYS, MIN_EXCESS, MIN_Z, TimePrior, decayed

STORY = sample_stories()["stories"]["saltmere-port-strike"]


def _dated(articles, article_id, shift):
    """The sample with ``article_id`` published ``shift`` after the story's first article."""
    first = next(a for a in articles if a.id == STORY[0]).published_at
    return [replace(a, published_at=first + shift) if a.id == article_id else a for a in articles]


def _spread(articles):
    """The sample with its articles moved 0 to 4 weeks apart."""
    return [replace(a, published_at=a.published_at + timedelta(days=7 * (i % 5))) for i, a in enumerate(articles)]


LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)  # after every article, the one moved a year on too


def _score(model, query, article_id):
    return {hit.article_id: hit.score for hit in model.related(query, k=10, now=LATER)}.get(article_id)


def test_the_factor_is_one_for_equal_dates_and_never_below_the_floor():
    prior = TimePrior(2.0, 0.5)
    seconds = np.array([0, 86_400 * 2, 86_400 * 1000])
    factor = prior.factor(0, seconds)
    assert factor[0] == 1.0
    assert factor[1] == pytest.approx(0.5 + 0.5 * np.exp(-0.5))
    assert factor[2] == pytest.approx(0.5)
    # the article's own words are never decayed: at factor 0 only the anchored cosine is left
    assert decayed(np.float32(0.9), np.float32(0.3), np.float32(1.5), np.float32(0.0)) == pytest.approx(0.2)


@pytest.mark.parametrize("option, value", [("time_scale_days", 0), ("time_scale_days", -1.0), ("time_scale_days", "on"),
                                           ("time_scale_days", float("nan")), ("time_floor", 1.5),
                                           ("time_floor", -0.1)])
def test_bad_prior_options_are_refused(option, value):
    with pytest.raises(InvalidOptionError, match=option):
        Recommender(**{option: value}).set_params(**{option: value})


def test_an_older_report_of_the_same_event_scores_lower_but_stays_listed(sample_articles):
    """The same article, published the day after or a year after: without the prior both
    score alike; with it (the default on the sample) the old one scores lower and ranks no
    higher, and its strong text match keeps it in the list."""
    query, other = STORY[0], STORY[1]
    fresh, old = _dated(sample_articles, other, timedelta(days=1)), _dated(sample_articles, other, timedelta(days=365))
    plain = [_score(Recommender(time_scale_days=None).fit(articles), query, other) for articles in (fresh, old)]
    assert plain[0] is not None and plain[0] == plain[1]
    primed = [Recommender().fit(articles) for articles in (fresh, old)]  # the default: the prior is on here
    assert all(model.time_scale_days_ == AUTO_SCALE_DAYS for model in primed)
    scores = [_score(model, query, other) for model in primed]
    assert scores[1] is not None, "a strong match is not dropped for its age"
    assert scores[1] < scores[0] <= plain[0]
    ranks = [[hit.article_id for hit in model.related(query, k=10, now=LATER)].index(other) for model in primed]
    assert ranks[1] >= ranks[0]


def test_equal_dates_leave_the_score_as_it_is(sample_articles):
    same_day = [replace(a, published_at=sample_articles[0].published_at) for a in sample_articles]
    ids = [a.id for a in same_day]
    plain = Recommender(time_scale_days=None).fit(same_day).similarity(ids)
    primed = Recommender(time_scale_days=1.0, time_floor=0.0).fit(same_day).similarity(ids)
    np.testing.assert_allclose(primed, plain, atol=1e-6)


def test_every_strategy_and_the_batch_give_the_same_lists_and_similarity(sample_articles):
    spread = _spread(sample_articles)
    model = Recommender(time_scale_days=2.0, time_floor=0.3).fit(spread)
    ids = model.article_ids
    lists = {}
    for strategy in ("auto", "profiles", "full"):
        variant = copy.copy(model).set_params(strategy=strategy)  # shares the fitted state
        lists[strategy] = [[(hit.article_id, hit.score) for hit in variant.related(i, k=8, now=LATER)] for i in ids]
    assert lists["auto"] == lists["profiles"] == lists["full"]
    batch_ids, batch_scores = model.related_batch(k=8, now=LATER)
    for row, article_id in enumerate(ids):
        hits = lists["auto"][row]
        assert list(batch_ids[row, :len(hits)]) == [hit_id for hit_id, _ in hits]
        assert list(batch_scores[row, :len(hits)]) == [score for _, score in hits]
    matrix = model.similarity(ids)
    position = {article_id: i for i, article_id in enumerate(ids)}
    for row, hits in enumerate(lists["auto"]):
        assert [matrix[row, position[hit_id]] for hit_id, _ in hits] == [score for _, score in hits]
    # the prior changes lists on this archive: it is not a no-op
    plain = Recommender(time_scale_days=None).fit(spread)
    assert any([(h.article_id, h.score) for h in plain.related(i, k=8, now=LATER)] != lists["auto"][row]
               for row, i in enumerate(ids))


def test_the_prior_survives_save_and_load(sample_articles, tmp_path):
    spread = _spread(sample_articles)
    model = Recommender(time_scale_days=3.0, time_floor=0.6).fit(spread)
    model.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    assert (loaded.time_scale_days, loaded.time_floor) == (3.0, 0.6)
    first = model.article_ids[0]
    assert ([(h.article_id, h.score) for h in loaded.related(first, now=LATER)]
            == [(h.article_id, h.score) for h in model.related(first, now=LATER)])


def _shuffled(articles, seed=0):
    """The sample with its publication dates permuted at random: dates that carry no signal."""
    order = np.random.default_rng(seed).permutation(len(articles))
    return [replace(a, published_at=articles[j].published_at) for a, j in zip(articles, order)]


def test_auto_turns_the_prior_on_where_the_archive_s_dates_predict_its_neighbours(sample_articles):
    model = Recommender().fit(sample_articles)  # the sample's stories run over a few days each
    locality = model.time_locality_
    assert locality.linked > 2 * locality.random and locality.excess >= MIN_EXCESS and locality.z >= MIN_Z
    assert model.time_scale_days_ == AUTO_SCALE_DAYS
    explicit = Recommender(time_scale_days=AUTO_SCALE_DAYS).fit(sample_articles)
    off = Recommender(time_scale_days=None).fit(sample_articles)
    lists = {name: [[(h.article_id, h.score) for h in m.related(i, k=8, now=LATER)] for i in model.article_ids]
             for name, m in (("auto", model), ("explicit", explicit), ("off", off))}
    assert lists["auto"] == lists["explicit"] != lists["off"]


@pytest.mark.parametrize("calendar", ["same day", "shuffled"])
def test_auto_leaves_the_prior_off_where_dates_carry_no_signal(sample_articles, calendar):
    articles = (_shuffled(sample_articles) if calendar == "shuffled"
                else [replace(a, published_at=sample_articles[0].published_at) for a in sample_articles])
    model = Recommender().fit(articles)
    assert model.time_scale_days_ is None and model.time_locality_.excess < MIN_EXCESS
    off = Recommender(time_scale_days=None).fit(articles)
    ids = model.article_ids
    np.testing.assert_array_equal(model.similarity(ids), off.similarity(ids))


def test_a_number_or_none_overrides_auto_on_a_fitted_model(sample_articles):
    model = Recommender().fit(_shuffled(sample_articles))
    assert model.time_scale_days_ is None
    assert copy.copy(model).set_params(time_scale_days=3.0).time_scale_days_ == 3.0
    assert Recommender().fit(sample_articles).set_params(time_scale_days=None).time_scale_days_ is None
    assert Recommender(neighbours=0).fit(sample_articles).time_scale_days_ is None  # no profiles: nothing to decay


def test_the_measured_locality_survives_save_and_load(sample_articles, tmp_path):
    model = Recommender().fit(sample_articles)
    model.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    assert loaded.time_locality_ == model.time_locality_ and loaded.time_scale_days_ == AUTO_SCALE_DAYS
    first = model.article_ids[0]
    assert ([(h.article_id, h.score) for h in loaded.related(first, now=LATER)]
            == [(h.article_id, h.score) for h in model.related(first, now=LATER)])
