"""Render-ready results: hits carry title, url, section and time; hits and pages are JSON;
page() takes list lengths and the Related filters; explanations state what orders the list."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from recommender import Hit, InvalidOptionError, Page, PageSizes, Recommender, load_reactions
from recommender.cli import main
from recommender.datasets import SAMPLE_NOW, sample_reactions_path

RENDERED = ("title", "url", "section", "published_at")


@pytest.fixture(scope="module")
def model(sample_articles):
    return Recommender().fit(sample_articles, reactions=load_reactions(sample_reactions_path()), now=SAMPLE_NOW)


def _check_rendered(rec: Recommender, hits: list[Hit]) -> None:
    assert hits
    for hit in hits:
        meta = rec.article_metadata(hit.article_id)
        assert (hit.title, hit.url, hit.section, hit.published_at) == tuple(meta[name] for name in RENDERED)
        assert isinstance(hit.score, float)


def test_every_list_carries_what_a_template_needs(model):
    article = model.article_ids[0]
    _check_rendered(model, model.related(article))
    _check_rendered(model, model.related_to_text("Aldermere festival", "The Aldermere film festival opens."))
    _check_rendered(model, model.ranking(now=SAMPLE_NOW))
    _check_rendered(model, model.ranking(now=SAMPLE_NOW, mode="trending"))
    _check_rendered(model, model.recommend(article, history=model.article_ids[1:3], now=SAMPLE_NOW))
    page = model.page(article, now=SAMPLE_NOW)
    for hits in (page.related, page.ranking, page.recommendation):
        _check_rendered(model, hits)


def test_positional_fields_come_first():
    hit = Hit("a1", 0.5, "why", ("t",), "story")
    assert (hit.article_id, hit.score, hit.explanation, hit.terms, hit.tier) == ("a1", 0.5, "why", ("t",), "story")
    assert (hit.title, hit.url, hit.section, hit.published_at) == ("", None, None, "")


def test_hits_and_pages_are_json(model):
    page = model.page(model.article_ids[0], history=model.article_ids[5:7], now=SAMPLE_NOW)
    payload = json.loads(json.dumps(page.to_dict()))
    assert set(payload) == {"related", "ranking", "recommendation"}
    first = payload["related"][0]
    assert first["article_id"] == page.related[0].article_id
    assert first["terms"] == list(page.related[0].terms) and first["tier"] in ("story", "related")
    assert first["title"] and first["published_at"].startswith("20")
    assert type(page.ranking[0].to_dict()["score"]) is float


def test_page_lengths_and_filters(model):
    article = model.article_ids[0]
    short = model.page(article, now=SAMPLE_NOW, related_k=3, ranking_k=2, recommendation_k=4)
    assert [len(short.related), len(short.ranking), len(short.recommendation)] == [3, 2, 4]
    same = model.page(article, now=SAMPLE_NOW, sizes=PageSizes(related=3, ranking=2, recommendation=4))
    assert same == short
    full = model.page(article, now=SAMPLE_NOW)
    assert short.related == full.related[:3]
    section = model.article_metadata(article)["section"]
    filtered = model.page(article, now=SAMPLE_NOW, same_section=False, max_age=timedelta(days=30))
    assert filtered.related == model.related(article, same_section=False, max_age=timedelta(days=30))
    assert all(hit.section != section for hit in filtered.related)
    banned = [full.related[0].article_id, full.ranking[0].article_id, full.recommendation[0].article_id]
    excluded = model.page(article, now=SAMPLE_NOW, exclude=banned)
    shown = [hit.article_id for hits in (excluded.related, excluded.ranking, excluded.recommendation) for hit in hits]
    assert not set(banned) & set(shown)
    assert len(shown) == len(set(shown))
    with pytest.raises(InvalidOptionError):
        model.page(article, now=SAMPLE_NOW, related_k=0)
    with pytest.raises(InvalidOptionError):
        model.page(article, now=SAMPLE_NOW, sizes=(1, 2, 3))


def test_ranking_text_states_the_figures_that_order_it(model):
    hits = model.ranking(now=SAMPLE_NOW)
    state = model.popularity_
    rows = model.catalog_.rows(hit.article_id for hit in hits)
    masses = state.masses_at(rows, SAMPLE_NOW.timestamp())[:, 0]
    for hit, mass in zip(hits, masses):
        rate = f"about {hit.score:.2g} an hour" if hit.score < 10 else f"about {hit.score:,.0f} an hour"
        assert rate in hit.explanation
        if mass >= 1:
            figure = f"{mass:.1f}" if mass < 10 else f"{mass:,.0f}"
            assert f"{figure} recent reactions" in hit.explanation
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_trending_text_reads_naturally(model):
    for hit in model.ranking(now=SAMPLE_NOW, mode="trending"):
        if hit.score >= 1.05:
            assert hit.explanation.startswith("trending") and "as fast as usual" in hit.explanation
        elif hit.score <= 1 / 1.05:
            assert hit.explanation.startswith("slowing") and f"{hit.score:.0%} of its usual pace" in hit.explanation
        else:
            assert hit.explanation.startswith("steady")


def test_cli_json_holds_titles_and_urls(tmp_path, capsys, model):
    model.save(tmp_path / "model")
    assert main(["ranking", "--model", str(tmp_path / "model"), "--now", SAMPLE_NOW.isoformat(), "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and all(hit["title"] and hit["url"] and hit["published_at"] for hit in hits)


def test_page_equals_the_lists_it_is_made_of(model):
    article, history = model.article_ids[3], model.article_ids[10:13]
    page = model.page(article, history=history, now=SAMPLE_NOW)
    assert page.related == model.related(article)
    taken = [article, *(hit.article_id for hit in page.related)]
    assert page.ranking == model.ranking(now=SAMPLE_NOW, exclude=taken)
    assert isinstance(page, Page) and np.isfinite([hit.score for hit in page.recommendation]).all()
