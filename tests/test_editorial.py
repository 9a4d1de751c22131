"""Editorial control: time (embargoes), blocks and pins, eligibility rules; each at its boundary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from recommender import (
    EditorialRules,
    EligibilityRule,
    EmbargoedArticleError,
    InvalidInputError,
    InvalidOptionError,
    ModelHandle,
    Recommender,
    UnknownArticleError,
    load_articles,
)
from recommender.datasets import SAMPLE_NOW, sample_reactions_path

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 60  # bound on any wait for another process (not a speed check)
SECOND = timedelta(seconds=1)
RELEASE = datetime(2026, 11, 28, 22, 0, tzinfo=timezone.utc)  # the scheduled story's publication time


def ids(hits) -> list[str]:
    return [hit.article_id for hit in hits]


@pytest.fixture(scope="module")
def scheduled(sample_articles):
    """A follow-up of a005's story, scheduled for RELEASE (the sample's newest stories are older)."""
    a005 = next(a for a in sample_articles if a.id == "a005")
    return replace(a005, id="scheduled", published_at=RELEASE, title="Follow-up: " + a005.title,
                   body=" ".join(a005.body.split()[: len(a005.body.split()) // 2]) + " The festival adds a second week.")


@pytest.fixture(scope="module")
def saved(sample_articles, scheduled, tmp_path_factory):
    path = tmp_path_factory.mktemp("scheduled") / "model"
    Recommender().fit([*sample_articles, scheduled]).save(path)
    return path


@pytest.fixture()
def model(saved):
    return Recommender.load(saved)


def visible_everywhere(model: Recommender, now: datetime) -> set[str]:
    """Every id any list of the sample shows at ``now``."""
    seen = set()
    for article_id in ("a005", "a001", "a033", "a049"):
        seen |= set(ids(model.related(article_id, now=now)))
        page = model.page(article_id, now=now)
        seen |= set(ids(page.related) + ids(page.ranking) + ids(page.recommendation))
        seen |= set(ids(model.recommend(article_id, now=now)))
    seen |= set(ids(model.ranking(now=now)))
    row_ids, _ = model.related_batch(now=now)
    seen |= set(row_ids.ravel().tolist())
    return seen


# -- time --------------------------------------------------------------------------------------
def test_a_scheduled_article_appears_from_its_second_on(model):
    assert "scheduled" in ids(model.related("a005", now=RELEASE))  # it is the same story: it ranks high
    assert "scheduled" not in ids(model.related("a005", now=RELEASE - SECOND))
    assert "scheduled" not in visible_everywhere(model, RELEASE - SECOND)
    assert "scheduled" in ids(model.related_to_text("Aldermere festival", model.article_metadata("a005")["title"]
                                                    + " festival second week", now=RELEASE, k=50))
    assert "scheduled" not in ids(model.related_to_text("Aldermere festival", model.article_metadata("a005")["title"]
                                                        + " festival second week", now=RELEASE - SECOND, k=50))


def test_a_scheduled_articles_own_lists_need_preview(model):
    with pytest.raises(EmbargoedArticleError, match="preview=True") as caught:
        model.related("scheduled", now=RELEASE - SECOND)
    assert isinstance(caught.value, UnknownArticleError)  # a site answers 404, as for an unknown id
    for call in (lambda: model.page("scheduled", now=RELEASE - SECOND),
                 lambda: model.recommend("scheduled", now=RELEASE - SECOND),
                 lambda: model.related_batch(["scheduled"], now=RELEASE - SECOND)):
        with pytest.raises(EmbargoedArticleError):
            call()
    assert model.related("scheduled", now=RELEASE - SECOND, preview=True)  # an editor's preview
    assert ids(model.related("scheduled", now=RELEASE)) == ids(model.related("scheduled", now=RELEASE - SECOND,
                                                                             preview=True))
    batch, _ = model.related_batch(now=RELEASE - SECOND)
    assert len(batch) == len(model.article_ids) - 1  # every article but the scheduled one


def test_max_age_never_reaches_past_now(model):
    assert "scheduled" in ids(model.related("a005", now=RELEASE, max_age=timedelta(days=3650)))
    assert "scheduled" not in ids(model.related("a005", now=RELEASE - SECOND, max_age=timedelta(days=3650)))


def test_naive_now_is_refused(model):
    with pytest.raises(InvalidOptionError, match="time zone"):
        model.related("a005", now=datetime(2026, 11, 28))


def test_batch_rows_equal_single_calls_with_rules_and_time(model):
    ruled = model
    ruled.block("a049").block("a010", under="a005").pin("a001", under="a005", position=2)
    chosen = ["a005", "a001", "a033", "a049", "a061"]
    row_ids, scores = ruled.related_batch(chosen, now=RELEASE - SECOND)
    for position, article_id in enumerate(chosen):
        hits = ruled.related(article_id, now=RELEASE - SECOND)
        assert [i for i in row_ids[position] if i] == ids(hits)
        np.testing.assert_allclose(scores[position][: len(hits)], [hit.score for hit in hits], rtol=1e-6)


# -- block and pin -----------------------------------------------------------------------------
@pytest.fixture()
def fresh(sample_articles):
    return Recommender().fit(sample_articles, reactions=sample_reactions_path(), now=SAMPLE_NOW)


def test_a_block_everywhere_reaches_every_list(fresh):
    popular = ids(fresh.ranking(now=SAMPLE_NOW))[0]
    related = ids(fresh.related("a005", now=SAMPLE_NOW))[0]
    fresh.block(popular).block(related)
    assert not {popular, related} & visible_everywhere(fresh, SAMPLE_NOW)
    fresh.unblock(popular)
    assert popular in ids(fresh.ranking(now=SAMPLE_NOW))


def test_a_block_under_one_article_leaves_the_others(fresh):
    first = ids(fresh.related("a005", now=SAMPLE_NOW))[0]
    fresh.block(first, under="a005")
    assert first not in ids(fresh.related("a005", now=SAMPLE_NOW))
    page = fresh.page("a005", now=SAMPLE_NOW)
    assert first not in ids(page.related) + ids(page.ranking) + ids(page.recommendation)
    holders = [a for a in fresh.article_ids if a != "a005" and first in ids(fresh.related(a, now=SAMPLE_NOW))]
    assert holders  # still shown elsewhere


def test_blocking_or_pinning_the_article_itself_is_refused(fresh):
    with pytest.raises(InvalidOptionError, match="under itself"):
        fresh.block("a005", under="a005")
    with pytest.raises(InvalidOptionError, match="own Related list"):
        fresh.pin("a005", under="a005", position=1)
    with pytest.raises(InvalidOptionError, match="position"):
        fresh.pin("a001", under="a005", position=0)
    assert not fresh.rules


def test_a_pin_takes_its_place_and_a_pin_past_the_end_goes_last(fresh):
    before = ids(fresh.related("a005", now=SAMPLE_NOW, k=5))
    far = next(a for a in fresh.article_ids if a not in before and a != "a005")
    fresh.pin(far, under="a005", position=2)
    after = fresh.related("a005", now=SAMPLE_NOW, k=5)
    assert ids(after)[1] == far and ids(after)[0] == before[0] and len(after) == 5
    assert after[1].explanation.startswith("pinned")
    assert after[1].score == pytest.approx(float(fresh.similarity(["a005"], [far])[0, 0]), abs=1e-6)
    assert ids(after).count(far) == 1
    fresh.pin(far, under="a005", position=99)  # replaces the earlier pin of that item
    assert ids(fresh.related("a005", now=SAMPLE_NOW, k=5))[-1] == far
    assert ids(fresh.related("a005", now=SAMPLE_NOW, k=3))[-1] == far
    assert far not in ids(fresh.related("a001", now=SAMPLE_NOW, k=50)[:0])  # only under a005
    short = ids(fresh.related("a005", now=SAMPLE_NOW, k=200))
    assert short[-1] == far  # a list shorter than the position: at its end
    fresh.unpin(far, under="a005")
    assert ids(fresh.related("a005", now=SAMPLE_NOW, k=5)) == before


def test_block_beats_pin_and_pin_beats_eligibility(fresh):
    item = ids(fresh.related("a005", now=SAMPLE_NOW))[3]
    section = fresh.article_metadata(item)["section"]
    fresh.set_eligibility([{"list": "related", "field": "section", "op": "not", "value": section}])
    assert item not in ids(fresh.related("a005", now=SAMPLE_NOW))
    fresh.pin(item, under="a005", position=1)
    assert ids(fresh.related("a005", now=SAMPLE_NOW))[0] == item  # pin > eligibility
    fresh.block(item)
    assert item not in ids(fresh.related("a005", now=SAMPLE_NOW))  # block > pin
    fresh.unblock(item).block(item, under="a005")
    assert item not in ids(fresh.related("a005", now=SAMPLE_NOW))


def test_a_pinned_item_waits_for_its_time(model):
    ruled = model
    ruled.pin("scheduled", under="a001", position=1)
    assert "scheduled" not in ids(ruled.related("a001", now=RELEASE - SECOND))
    assert ids(ruled.related("a001", now=RELEASE))[0] == "scheduled"


def test_rules_survive_save_load_and_carry_to_a_refit(fresh, sample_articles, tmp_path):
    fresh.block("a010").block("a049", under="a005").pin("a001", under="a005", position=3)
    fresh.set_eligibility([EligibilityRule("recommendation", "paywalled", "equals", False, readers="anonymous"),
                           {"list": "related", "field": "language", "value": "$article"}])
    fresh.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    assert loaded.rules == fresh.rules
    assert loaded.rules.to_json() == fresh.rules.to_json()
    assert ids(loaded.related("a005", now=SAMPLE_NOW)) == ids(fresh.related("a005", now=SAMPLE_NOW))
    refit = Recommender().fit(sample_articles).set_rules(loaded.rules)
    assert refit.rules == fresh.rules
    assert json.loads(json.dumps(fresh.rules.to_json())) == fresh.rules.to_json()


def test_rules_reach_another_process_through_the_log(fresh, tmp_path):
    fresh.save(tmp_path / "model")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "model"), str(WAIT_SECONDS)],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline().strip() == "ready"
        writer = ModelHandle(tmp_path / "model", updates=True)
        target = ids(writer.model.related("a005", now=SAMPLE_NOW))[0]
        writer.block(target)
        with pytest.raises(InvalidOptionError):  # validated before commit: never logged
            writer.pin("a005", under="a005", position=1)
        with pytest.raises(InvalidOptionError, match="colour"):
            writer.set_eligibility([{"list": "related", "field": "colour", "value": "red"}])
        seen = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait(WAIT_SECONDS)
    assert seen["waited"] < WAIT_SECONDS
    assert target not in seen["related"]
    assert seen["blocked"] == [target]
    assert writer.model.log_position_ == 1


CHILD = """
import json, sys, time
from recommender import ModelHandle
from recommender.datasets import SAMPLE_NOW, sample_reactions_path
handle = ModelHandle(sys.argv[1], updates=True)
print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[2])
while handle.model.log_position_ < 1 and time.monotonic() < deadline:
    time.sleep(0.05)
model = handle.model
print(json.dumps({"waited": time.monotonic() - deadline + float(sys.argv[2]),
                  "related": [hit.article_id for hit in model.related("a005", now=SAMPLE_NOW)],
                  "blocked": sorted(model.rules.blocked)}), flush=True)
"""


# -- eligibility ---------------------------------------------------------------------------------
FLAGGED = [
    {"id": "p1", "title": "Harbour strike talks", "body": "Dock workers and the port authority resume strike talks.",
     "published_at": "2026-10-01T09:00:00+00:00", "section": "business", "language": "en", "paywalled": True},
    {"id": "p2", "title": "Harbour strike talks stall", "body": "Strike talks between dock workers and the port stall.",
     "published_at": "2026-10-02T09:00:00+00:00", "section": "business", "language": "en", "flags": ["opinion"]},
    {"id": "p3", "title": "Huelga en el puerto", "body": "Dock workers strike at the port: la huelga del puerto sigue, port dock talks stall.",
     "published_at": "2026-10-03T09:00:00+00:00", "section": "business", "language": "es"},
    {"id": "p4", "title": "Port strike ends", "body": "The dock workers strike at the port ends after talks.",
     "published_at": "2026-10-04T09:00:00+00:00", "section": "world", "language": "en", "tags": ["strike"],
     "flags": "sponsored"},
]
LATER = datetime(2026, 10, 10, tzinfo=timezone.utc)


@pytest.fixture()
def flagged():
    return Recommender(min_df=1, max_df=1.0, neighbours=2, core_neighbours=1,
                       cross_language=True).fit(FLAGGED)  # the eligibility rules alone decide


def test_flags_are_read_validated_and_saved(flagged, tmp_path):
    assert flagged.article_metadata("p1")["flags"] == ["paywalled"]
    assert flagged.article_metadata("p4")["flags"] == ["sponsored"]
    assert flagged.article_metadata("p3")["language"] == "es"
    flagged.save(tmp_path / "m")
    assert Recommender.load(tmp_path / "m").article_metadata("p1")["flags"] == ["paywalled"]
    with pytest.raises(InvalidInputError, match="paywalled must be true or false"):
        load_articles([{**FLAGGED[0], "paywalled": "yes"}])
    with pytest.raises(InvalidInputError, match="flag 'Bad Flag'"):
        load_articles([{**FLAGGED[0], "flags": ["Bad Flag"]}])


def test_unknown_fields_and_bad_rules_are_refused_by_name(flagged):
    with pytest.raises(InvalidOptionError, match="unknown rule field 'paywall'"):
        flagged.set_eligibility([{"list": "related", "field": "paywall", "value": True}])
    with pytest.raises(InvalidOptionError, match="rule list"):
        flagged.set_eligibility([{"list": "sidebar", "field": "section", "value": "x"}])
    with pytest.raises(InvalidOptionError, match="op"):
        flagged.set_eligibility([{"list": "related", "field": "section", "op": "like", "value": "x"}])
    with pytest.raises(InvalidOptionError):
        flagged.set_eligibility([{"list": "related", "field": "paywalled", "value": "no"}])
    with pytest.raises(InvalidOptionError, match="keys"):
        flagged.set_eligibility([{"list": "related", "field": "section", "value": "x", "extra": 1}])
    assert not flagged.rules.eligibility


def test_eligibility_rules_filter_their_list(flagged):
    everything = set(ids(flagged.related("p2", now=LATER)))
    assert {"p1", "p3", "p4"} <= everything
    flagged.set_eligibility([{"list": "related", "field": "language", "value": "$article"}])
    assert set(ids(flagged.related("p2", now=LATER))) == {"p1", "p4"}  # same language only
    assert set(ids(flagged.related("p3", now=LATER))) == set()
    flagged.set_eligibility([{"list": "related", "field": "flags", "op": "not", "value": ["sponsored", "opinion"]}])
    assert set(ids(flagged.related("p1", now=LATER))) == {"p3"}
    flagged.set_eligibility([{"list": "related", "field": "tags", "op": "equals", "value": "strike"}])
    assert ids(flagged.related("p1", now=LATER)) == ["p4"]
    flagged.set_eligibility([{"list": "related", "field": "section", "op": "in", "value": ["world"]}])
    assert ids(flagged.related("p1", now=LATER)) == ["p4"]
    assert set(ids(flagged.recommend("p1", now=LATER))) == {"p2", "p3", "p4"}  # other lists untouched


def test_anonymous_rules_follow_the_reader(flagged):
    flagged.set_eligibility([EligibilityRule("recommendation", "paywalled", "equals", False, readers="anonymous")])
    assert "p1" not in ids(flagged.recommend("p2", now=LATER))
    assert "p1" not in ids(flagged.page("p2", now=LATER, related_k=1, ranking_k=1).recommendation)
    assert "p1" in ids(flagged.recommend("p2", now=LATER, signed_in=True))
    assert "p1" in ids(flagged.related("p2", now=LATER))  # a Recommendation rule


def test_rules_json_round_trip_and_limits():
    rules = EditorialRules().blocking("x").blocking("y", under="a").pinning("z", "a", 2).with_eligibility(
        [{"list": "ranking", "field": "sponsored", "op": "not", "value": True}])
    from recommender._rules import rules_from_json

    assert rules_from_json(rules.to_json()) == rules
    with pytest.raises(InvalidOptionError):
        rules_from_json({"blocked": "x"})
    with pytest.raises(InvalidOptionError, match="pin"):
        rules_from_json({"pins": {"a": [["z"]]}})


# -- precomputed lists -----------------------------------------------------------------------
def _precomputed(out: Path) -> tuple[dict, list[tuple[str, str]]]:
    import sqlite3

    conn = sqlite3.connect(out)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        pairs = conn.execute("SELECT article_id, item_id FROM lists ORDER BY list, article_id, rank").fetchall()
    finally:
        conn.close()
    return meta, pairs


def test_precompute_leaves_scheduled_articles_out_and_says_until_when(saved, tmp_path):
    from recommender._precompute import precompute

    out = tmp_path / "lists.sqlite"
    precompute(saved, out, now=RELEASE - SECOND, pages=True, progress=False)
    meta, pairs = _precomputed(out)
    assert meta["valid_until"] == RELEASE.isoformat() and meta["now"] == (RELEASE - SECOND).isoformat()
    assert pairs and not any("scheduled" in pair for pair in pairs)
    precompute(saved, out, now=RELEASE, progress=False)
    meta, pairs = _precomputed(out)
    assert meta["valid_until"] == ""
    assert ("a005", "scheduled") in pairs and any(article == "scheduled" for article, _ in pairs)


def test_precompute_applies_rules_from_the_model_and_the_log(saved, tmp_path):
    from recommender._precompute import precompute

    model = Recommender.load(saved)
    model.pin("a001", under="a005", position=1)
    model.save(tmp_path / "model")
    handle = ModelHandle(tmp_path / "model", updates=True)
    blocked = ids(handle.model.related("a033", now=RELEASE))[0]
    handle.block(blocked)
    out = tmp_path / "lists.sqlite"
    precompute(tmp_path / "model", out, now=RELEASE, progress=False)
    _, pairs = _precomputed(out)
    assert not any(item == blocked for _, item in pairs)
    assert [item for article, item in pairs if article == "a005"][0] == "a001"
    assert [item for article, item in pairs if article == "a005"] == ids(handle.model.related("a005", now=RELEASE))


def test_build_carries_rules_and_related_takes_now_on_the_command_line(saved, tmp_path, capsys):
    from recommender.cli import main

    old = Recommender.load(saved)
    old.block("a049").pin("a001", under="a005", position=1)
    old.save(tmp_path / "old")
    ModelHandle(tmp_path / "old", updates=True).block("a010", under="a005")  # after the save: in the log
    articles = tmp_path / "articles.jsonl"
    articles.write_text("".join(json.dumps({**old.article_metadata(i), "body": old.article_metadata(i)["title"]
                                            + " body text"}) + "\n" for i in old.article_ids), encoding="utf-8")
    assert main(["build", str(articles), "--out", str(tmp_path / "new"), "--rules-from", str(tmp_path / "old")]) == 0
    rules = Recommender.load(tmp_path / "new").rules
    assert rules.blocked == {"a049"} and rules.blocked_under == {"a005": {"a010"}}
    assert dict(rules.pins) == {"a005": (("a001", 1),)}
    capsys.readouterr()
    before = (RELEASE - SECOND).isoformat()
    assert main(["related", "scheduled", "--model", str(saved), "--now", before, "--json"]) == 1
    assert "preview" in capsys.readouterr().err
    assert main(["related", "scheduled", "--model", str(saved), "--now", before, "--preview", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"]
    assert main(["related", "a005", "--model", str(saved), "--now", before, "--json"]) == 0
    assert "scheduled" not in capsys.readouterr().out


def test_masked_lists_are_exact_under_every_strategy(model):
    import copy

    model.block("a049").set_eligibility([{"list": "related", "field": "section", "op": "not", "value": "sports"}])
    full = copy.copy(model).set_params(strategy="full")
    for article_id in ("a005", "a001", "a033", "a061", "a020"):
        for now in (RELEASE - SECOND, RELEASE):
            ours, theirs = model.related(article_id, now=now), full.related(article_id, now=now)
            assert ids(ours) == ids(theirs)
            np.testing.assert_allclose([h.score for h in ours], [h.score for h in theirs], rtol=1e-6)


def test_module_examples():
    import doctest

    from recommender import _rules

    assert doctest.testmod(_rules).failed == 0


def test_a_pinned_story_is_not_shown_twice(fresh):
    """a004 and a054 are copies of one wire story (cosine >= duplicate_threshold): pinning one
    under a027, whose list holds the other, leaves one copy on the list."""
    assert "a054" in ids(fresh.related("a027", now=SAMPLE_NOW)) and "a004" not in ids(fresh.related("a027",
                                                                                                   now=SAMPLE_NOW))
    fresh.pin("a004", under="a027", position=1)
    shown = ids(fresh.related("a027", now=SAMPLE_NOW))
    assert shown[0] == "a004" and "a054" not in shown and "a018" not in shown
    assert len(shown) == len(set(shown))
    row_ids, _ = fresh.related_batch(["a027"], now=SAMPLE_NOW)
    assert [i for i in row_ids[0] if i] == shown
