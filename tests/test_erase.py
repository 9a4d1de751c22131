"""Purge in memory: a purged article leaves no row, term, reaction or alias behind, and the
other articles' lists stay exact."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recommender import Recommender, UnknownArticleError
from recommender.datasets import SAMPLE_NOW

SECRET = "Quelmorrow"  # a name only the purged article holds


def _secret_article(article_id: str = "takedown-1") -> dict:
    return {"id": article_id, "title": f"{SECRET} sues the Calden harbour board",
            "body": f"{SECRET} filed papers against the harbour board over the dock strike and shipping delays.",
            "published_at": "2026-11-27T09:00:00+00:00", "section": "business"}


def _reactions(article_id: str, n: int) -> list[dict]:
    return [{"article_id": article_id, "reaction": "good", "at": (SAMPLE_NOW - timedelta(minutes=i)).isoformat()}
            for i in range(n)]


@pytest.fixture()
def model(sample_articles):
    rec = Recommender().fit([*sample_articles, _secret_article()], now=SAMPLE_NOW)
    rec.record_reactions(_reactions("takedown-1", 40) + _reactions(sample_articles[0].id, 3), now=SAMPLE_NOW)
    return rec


def _everywhere(rec: Recommender) -> set[str]:
    seen = {hit.article_id for hit in rec.ranking(k=50, now=SAMPLE_NOW)}
    for article_id in rec.article_ids:
        page = rec.page(article_id, now=SAMPLE_NOW)
        seen |= {hit.article_id for hits in (page.related, page.ranking, page.recommendation) for hit in hits}
    return seen


def test_a_purge_leaves_no_row_term_or_reaction(model, tmp_path):
    assert "takedown-1" in _everywhere(model)
    assert SECRET.lower() in {str(term).lower() for term in model.vectorizer_.display_terms_}
    counts = model.purge_articles(["takedown-1"])
    assert counts["rows"] == 1 and counts["terms"] >= 1 and counts["profile_entries"] >= 1
    assert "takedown-1" not in model.article_ids and "takedown-1" not in model.catalog_.ids()
    assert "takedown-1" not in _everywhere(model)
    assert model.index_.n_rows == len(model.catalog_) == len(model.popularity_.last) == model.profiles_.n_rows
    assert SECRET.lower() not in {str(term).lower() for term in model.vectorizer_.display_terms_}
    with pytest.raises(UnknownArticleError):
        model.related("takedown-1")
    model.save(tmp_path / "model")
    blob = b"".join(p.read_bytes() for p in (tmp_path / "model").rglob("*") if p.is_file())
    assert b"takedown-1" not in blob and SECRET.encode() not in blob and SECRET.lower().encode() not in blob
    loaded = Recommender.load(tmp_path / "model")  # every content check passes
    assert loaded.article_ids == model.article_ids


def test_lists_after_a_purge_stay_exact(model, tmp_path):
    model.purge_articles(["takedown-1"])
    model.save(tmp_path / "model")
    full = Recommender.load(tmp_path / "model").set_params(strategy="full")
    for article_id in model.article_ids:
        assert [h.article_id for h in model.related(article_id)] == [h.article_id for h in full.related(article_id)]
    ids, _ = model.related_batch(k=10)
    assert ids.shape[0] == len(model.article_ids)


def test_unpublished_copies_waiting_reactions_and_re_added_ids_are_purged(model):
    model.remove_articles(["takedown-1"])
    model.add_articles([_secret_article()])  # the same id again: two rows, one unpublished
    model.record_reactions(_reactions("not-yet-published", 2), now=SAMPLE_NOW)
    rows_before = len(model.catalog_)
    counts = model.purge_articles(["takedown-1", "not-yet-published"])
    assert counts["rows"] == 2 and counts["pending_reactions"] == 2
    assert len(model.catalog_) == rows_before - 2
    assert not model._fitted().pending
    model.add_articles([_secret_article()])  # the id is free again, as new
    assert "takedown-1" in model.article_ids


def test_an_unknown_id_purges_nothing(model):
    rows = len(model.catalog_)
    with pytest.raises(UnknownArticleError):
        model.purge_articles(["takedown-1", "no-such-article"])
    assert len(model.catalog_) == rows and "takedown-1" in model.article_ids
    with pytest.raises(Exception):
        model.purge_articles("takedown-1")  # a lone string, not a collection


def test_late_reactions_to_a_purged_article_are_dropped_not_kept_waiting(model, tmp_path):
    model.purge_articles(["takedown-1"])
    report = model.record_reactions(_reactions("takedown-1", 4) + _reactions("unknown-yet", 1), now=SAMPLE_NOW)
    assert (report.purged, report.pending) == (4, 1)
    model.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    assert loaded.record_reactions(_reactions("takedown-1", 2), now=SAMPLE_NOW).purged == 2
    assert b"takedown-1" not in b"".join(p.read_bytes() for p in (tmp_path / "model").rglob("*") if p.is_file())
    loaded.add_articles([_secret_article()])  # published again: its reactions count again
    report = loaded.record_reactions(_reactions("takedown-1", 2), now=SAMPLE_NOW)
    assert (report.applied, report.purged) == (2, 0)


def test_a_purge_keeps_the_other_articles_flags_languages_and_the_rules(sample_articles, tmp_path):
    flagged = {"id": "paywalled-1", "title": "Harbour board budget vote", "language": "en", "paywalled": True,
               "body": "The harbour board voted on its budget for the dock and the shipping lanes.",
               "published_at": "2026-11-26T09:00:00+00:00", "section": "business"}
    rec = Recommender().fit([*sample_articles, _secret_article(), flagged], now=SAMPLE_NOW)
    rec.block(sample_articles[1].id)
    before = rec.article_metadata("paywalled-1")
    rec.purge_articles(["takedown-1"])
    assert rec.article_metadata("paywalled-1") == before
    assert sample_articles[1].id in rec.rules.blocked
    rec.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    assert loaded.article_metadata("paywalled-1") == before
    assert loaded.rules == rec.rules
    assert sample_articles[1].id not in {hit.article_id for hit in loaded.ranking(k=50, now=SAMPLE_NOW)}
