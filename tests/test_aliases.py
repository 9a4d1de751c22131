"""Canonical duplicates: one story under two ids. Lists show the canonical id only, a query by
the alias answers as the canonical one, reactions to either add up; the rules are checked."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from recommender import (
    CorruptArtifactError,
    DuplicateArticleError,
    InvalidInputError,
    ModelHandle,
    Recommender,
    UnknownArticleError,
)
from recommender import _store as store
from recommender.datasets import SAMPLE_NOW
from tests.conftest import reseal

BODY = ("The Saltmere harbour board approved a new ferry terminal after a long dispute with dock workers "
        "over shifts, pay and the future of the old pier.")


def _story(article_id: str, section: str) -> dict:
    return {"id": article_id, "title": "Saltmere approves new ferry terminal", "body": BODY,
            "published_at": "2026-11-28T08:00:00+00:00", "section": section, "url": f"https://x.test/{article_id}"}


def _reactions(article_id: str, n: int, minutes: int = 0) -> list[dict]:
    return [{"article_id": article_id, "reaction": "good",
             "at": (SAMPLE_NOW - timedelta(minutes=minutes + 3 * i)).isoformat()} for i in range(n)]


@pytest.fixture()
def articles(sample_articles):
    return [*sample_articles, _story("ferry", "news"), _story("ferry-local", "local")]


def _shown(rec: Recommender) -> set[str]:
    seen = {hit.article_id for hit in rec.ranking(k=100, now=SAMPLE_NOW)}
    for article_id in rec.article_ids:
        page = rec.page(article_id, now=SAMPLE_NOW)
        seen |= {hit.article_id for hits in (page.related, page.ranking, page.recommendation) for hit in hits}
    ids, _ = rec.related_batch(k=10)  # padded with "" where a list is shorter than k
    return seen | set(ids.ravel().tolist())


def test_lists_show_the_canonical_id_and_an_alias_query_answers_as_it(articles):
    rec = Recommender().fit(articles, now=SAMPLE_NOW)
    rec.record_reactions(_reactions("ferry-local", 30), now=SAMPLE_NOW)
    assert "ferry-local" in _shown(rec)
    rec.add_aliases({"ferry-local": "ferry"})
    shown = _shown(rec)
    assert "ferry-local" not in shown and "ferry" in shown
    assert "ferry-local" not in rec.article_ids
    as_ids = lambda hits: [hit.article_id for hit in hits]  # noqa: E731
    assert as_ids(rec.related("ferry-local")) == as_ids(rec.related("ferry"))
    assert rec.page("ferry-local", now=SAMPLE_NOW).to_dict() == rec.page("ferry", now=SAMPLE_NOW).to_dict()
    assert (as_ids(rec.recommend(history=["ferry-local"], now=SAMPLE_NOW))
            == as_ids(rec.recommend(history=["ferry"], now=SAMPLE_NOW)))
    assert rec.article_metadata("ferry-local")["id"] == "ferry"
    assert "ferry" not in as_ids(rec.related("a001", k=50, exclude=["ferry-local"]))
    assert np.array_equal(rec.similarity(["ferry-local", "a001"]), rec.similarity(["ferry", "a001"]))


def test_reactions_to_either_id_add_up(articles):
    aliased = Recommender().fit(articles, now=SAMPLE_NOW)
    aliased.record_reactions(_reactions("ferry-local", 10) + _reactions("ferry", 10, minutes=1), now=SAMPLE_NOW)
    aliased.add_aliases({"ferry-local": "ferry"})
    aliased.record_reactions(_reactions("ferry-local", 5, minutes=2), now=SAMPLE_NOW)
    control = Recommender().fit(articles, now=SAMPLE_NOW)
    control.record_reactions(_reactions("ferry", 10) + _reactions("ferry", 10, minutes=1)
                             + _reactions("ferry", 5, minutes=2), now=SAMPLE_NOW)
    control.add_aliases({"ferry-local": "ferry"})
    score = {hit.article_id: hit.score for hit in aliased.ranking(k=100, now=SAMPLE_NOW)}
    expected = {hit.article_id: hit.score for hit in control.ranking(k=100, now=SAMPLE_NOW)}
    assert score.keys() == expected.keys() and "ferry" in score
    assert score["ferry"] == pytest.approx(expected["ferry"], rel=1e-9)


@pytest.mark.parametrize("aliases, error, needle", [
    ({"ferry": "ferry"}, InvalidInputError, "itself"),
    ({"ferry-local": "nowhere"}, UnknownArticleError, "nowhere"),
    ({"nowhere": "ferry"}, UnknownArticleError, "nowhere"),
    ({"ferry-local": "ferry", "a001": "ferry-local"}, InvalidInputError, "chain"),  # a chain
    ({"ferry-local": "ferry", "ferry": "a001"}, InvalidInputError, "chain"),  # the canonical id aliased on
    ({"ferry-local": "ferry", "ferry": "ferry-local"}, InvalidInputError, "chain"),  # a cycle
    ([("ferry-local", "ferry"), ("ferry-local", "a001")], InvalidInputError, "two canonical"),
    ("ferry-local", InvalidInputError, "map"),
])
def test_bad_aliases_are_refused_whole(articles, aliases, error, needle):
    rec = Recommender().fit(articles, now=SAMPLE_NOW)
    with pytest.raises(error, match=needle):
        rec.add_aliases(aliases)
    assert rec.aliases_ == {} and "ferry-local" in rec.article_ids


def test_declared_aliases_are_kept_checked_and_persisted(articles, tmp_path):
    rec = Recommender().fit(articles, now=SAMPLE_NOW).add_aliases({"ferry-local": "ferry"})
    rec.add_aliases({"ferry-local": "ferry"})  # the same pair again: nothing changes
    with pytest.raises(InvalidInputError, match="already an alias"):
        rec.add_aliases({"ferry-local": "a001"})
    with pytest.raises(InvalidInputError, match="chain"):
        rec.add_aliases({"a001": "ferry-local"})  # an alias cannot be a canonical id
    with pytest.raises(DuplicateArticleError, match="alias of 'ferry'"):
        rec.add_articles([_story("ferry-local", "local")])  # the alias id is taken
    rec.remove_articles(["ferry-local"])  # by the alias: the story is unpublished
    assert "ferry" not in rec.article_ids
    with pytest.raises(DuplicateArticleError, match="alias of 'ferry'"):
        rec.add_articles([_story("ferry-local", "local")])  # still taken while the story is unpublished
    rec.add_articles([_story("ferry", "news")])  # the story again: the alias answers for it again
    assert rec.article_metadata("ferry-local")["id"] == "ferry"
    rec.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    assert loaded.aliases_ == {"ferry-local": "ferry"}
    assert [h.article_id for h in loaded.related("ferry-local")] == [h.article_id for h in rec.related("ferry")]
    version = store.resolve(tmp_path / "model")
    (version / "aliases.json").write_text('[["ferry-local","ferry"],["ferry","a001"]]')  # a chain
    reseal(version)
    with pytest.raises(CorruptArtifactError, match="chain"):
        Recommender.load(tmp_path / "model")


def test_aliases_reach_every_worker_through_the_log(articles, tmp_path):
    Recommender().fit(articles, now=SAMPLE_NOW).save(tmp_path / "model")
    first = ModelHandle(tmp_path / "model", updates=True, staleness=0)
    second = ModelHandle(tmp_path / "model", updates=True, staleness=0)
    with pytest.raises(InvalidInputError):
        first.add_aliases({"ferry": "ferry"})  # refused: nothing logged
    first.add_aliases({"ferry-local": "ferry"})
    second.record_reactions(_reactions("ferry-local", 7), now=SAMPLE_NOW)
    assert second.model.aliases_ == {"ferry-local": "ferry"}
    direct = Recommender.load(tmp_path / "model").add_aliases({"ferry-local": "ferry"})
    direct.record_reactions(_reactions("ferry", 7), now=SAMPLE_NOW)
    for handle in (first, second, ModelHandle(tmp_path / "model", updates=True)):
        assert handle.model.aliases_ == {"ferry-local": "ferry"}
        assert ([(h.article_id, h.score) for h in handle.model.ranking(now=SAMPLE_NOW)]
                == [(h.article_id, h.score) for h in direct.ranking(now=SAMPLE_NOW)])


def test_purging_a_canonical_id_purges_its_aliases(articles):
    rec = Recommender().fit(articles, now=SAMPLE_NOW).add_aliases({"ferry-local": "ferry"})
    counts = rec.purge_articles(["ferry"])
    assert counts["rows"] == 2 and counts["aliases"] == 1
    assert rec.aliases_ == {} and not {"ferry", "ferry-local"} & set(rec.catalog_.ids())
