"""Markup that made the old tag search quadratic, at the article size limit.

Every pattern runs through the whole article path (``html_to_text``, ``load_articles``,
``fit``, ``add_articles``, ``related_to_text``) at ``ArticleLimits.max_body_chars``. No
timing is asserted (``benchmarks/bench_markup.py`` measures it: tens of milliseconds per
call); a quadratic scan would take minutes per call and stall the suite.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings, strategies as st

from recommender import Recommender, load_articles
from recommender._articles import ArticleLimits
from recommender._markup import html_to_text, looks_like_html

LIMIT = ArticleLimits().max_body_chars
WORST = ["<a", "</", "<!", "<!--", "<?", '<a b="', "<a b='>", "<script>", "<script></script", "&#1", "\r", " \r"]
NOW = "2026-10-03T08:15:00+00:00"


def body(unit: str) -> str:
    return "Calden harbour strike " + (unit * (LIMIT // len(unit)))[: LIMIT - 3_000]


@pytest.fixture(scope="module")
def model(sample_model):
    return sample_model


@pytest.mark.parametrize("unit", WORST)
def test_worst_known_markup_at_the_size_limit(unit, model):
    text = body(unit)
    assert LIMIT - 3_000 <= len(text) <= LIMIT
    out = html_to_text(text)
    assert isinstance(looks_like_html(text), bool) and out == out.strip()
    article = {"id": "attack", "title": (unit * 500)[:1_000], "body": text, "published_at": NOW}
    [loaded] = load_articles([article])
    assert "Calden" in loaded.body
    assert isinstance(model.related_to_text((unit * 500)[:1_000], text, k=3), list)
    grown = Recommender().fit(load_articles([*load_articles(_sample())[:5]]))
    grown.add_articles([loaded])
    assert "attack" in grown.article_ids


def test_fit_on_attack_bodies():
    articles = [{"id": f"x{i}", "title": "Calden", "body": body(unit), "published_at": NOW}
                for i, unit in enumerate(WORST[:4])]
    rec = Recommender().fit([*load_articles(_sample()), *articles])
    assert {a["id"] for a in articles} <= set(rec.article_ids)


@pytest.mark.parametrize("markup, text", [
    ('<p>x <img alt="a > b" src=x> y</p>', "x y"),
    ("<a href='x>y'>link</a> after", "link after"),
    ('<SCRIPT type="x">a<b</SCRIPT >ok', "ok"),
    ("<style>p>a{}</style>t", "t"),
    ("<!DOCTYPE html><html><body>a</body></html>", "a"),
    ("<?xml version='1.0'?><p>q</p>", "q"),
    ("<p>a</p >b", "a\nb"),
    ("<p>a<a b='c>d", "ad"),  # a quote that never closes: the tag ends at the next '>'
    ("<p>a<a b='c d", "a<a b='c d"),  # no '>' after it: unclosed markup is kept as text
    ("x <a" * 3, "x <ax <ax <a"),
    ("line\r \r\nnext", "line\nnext"),
])
def test_quoted_attributes_raw_text_and_unclosed_markup(markup, text):
    assert html_to_text(markup) == text


def _sample():
    from recommender.datasets import sample_articles_path

    return sample_articles_path()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\f\v\u00a0\n")), max_size=40))
@example("a\u00a0b")  # one space of each kind alone: plain text skips the collapsing scan only without any
@example("a\tb")
@example("a\fb")
@example("a\vb")
@example("a  b\n c")
def test_tidy_collapses_every_run_of_spaces_and_tabs_into_one_space(text):
    import re

    from recommender._markup import _tidy

    lines = (line.strip() for line in re.sub(r"[ \t\f\v\u00a0]+", " ", text).split("\n"))
    assert _tidy(text) == "\n".join(line for line in lines if line)
