"""The reader's section profile: smoothed section and subsection shares, pinned by hand."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from recommender import Recommender
from recommender._options import BlendWeights, from_json, to_json
from recommender._reader import SHARE_FLOOR, log_scaled, section_shares
from recommender.evaluation.mind import blend_scorer, evaluate_mind, read_mind_news

PUBLISHED = datetime(2026, 11, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 2, tzinfo=timezone.utc)


def _article(article_id, section, tag, text):
    return {"id": article_id, "title": text, "body": f"{text}. {text}.", "published_at": PUBLISHED,
            "section": section, "tags": [tag]}


def _articles():
    return [
        _article("s1", "sport", "soccer", "Rovers beat United in the cup semi-final"),
        _article("s2", "sport", "soccer", "City sign a striker from Lisbon"),
        _article("s3", "sport", "soccer", "Derby ends in a draw after late penalty"),
        _article("t1", "sport", "tennis", "Veteran reaches the Melbourne quarter-final"),
        _article("f1", "finance", "markets", "Central bank raises interest rates again"),
        _article("f2", "finance", "markets", "Shares fall as bond yields climb"),
    ]


@pytest.fixture(scope="module")
def model():
    return Recommender().fit(_articles())


def test_section_and_subsection_shares_by_hand(model):
    catalog = model.catalog_
    history = catalog.rows(["s1", "s2", "f1"])
    section, subsection = section_shares(catalog, history, catalog.rows(["t1", "s3", "f2"]))
    # 3 reads (2 sport/soccer, 1 finance/markets); archive: sport 4/6 (soccer 3/4, tennis 1/4), finance 2/6.
    sport, finance = (2 + 4 / 6) / (3 + 1), (1 + 2 / 6) / (3 + 1)
    assert section == pytest.approx([sport, sport, finance])
    assert subsection == pytest.approx([(0 + 2 * sport / 4) / 5, (2 + 2 * sport * 3 / 4) / 5, (1 + 2 * finance) / 5])


def test_log_scaled_share_by_hand():
    shares = np.array([1.0, 0.1, 0.01, SHARE_FLOOR, SHARE_FLOOR / 10, 0.0])
    assert log_scaled(shares) == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0, 0.0, 0.0])


def test_the_section_signal_is_the_log_scaled_share_and_linear_keeps_the_share(model):
    catalog = model.catalog_
    history, candidates = ["s1", "s2", "f1"], ["t1", "s3", "f2"]
    share, _ = section_shares(catalog, catalog.rows(history), catalog.rows(candidates))
    assert model.section_scale == "log"
    assert model._relevance(candidates, history, now=NOW, signal="section") == pytest.approx(log_scaled(share))
    linear = Recommender(section_scale="linear").fit(_articles())
    assert linear._relevance(candidates, history, now=NOW, signal="section") == pytest.approx(share)
    assert not model._relevance(candidates, (), now=NOW, signal="section").any()  # no history, no profile


def test_no_history_no_profile(model):
    catalog = model.catalog_
    section, subsection = section_shares(catalog, np.empty(0, dtype=np.int64), catalog.rows(["t1", "f2"]))
    assert not section.any() and not subsection.any()


def test_the_profile_reaches_the_list_and_explains_itself():
    sections_only = {name: 0.0 for name in ("article", "history", "history_max", "popularity", "freshness")}
    reader = Recommender(blend_weights=sections_only).fit(_articles())
    hits = reader.recommend(history=["s1", "s2"], k=4, now=NOW)
    assert hits[0].article_id == "s3" and hits[0].explanation == "because you read sport"
    assert [h.article_id for h in hits[1:2]] == ["t1"]  # same section, other subsection, before finance


def test_models_saved_before_the_reader_blend_keep_the_similarity_blend():
    config = to_json(Recommender().get_params())
    del config["blend"]
    options = from_json(config)
    assert options["blend"] == "similarity"
    assert BlendWeights.of(None, options["blend"]) == BlendWeights(**BlendWeights.SIMILARITY)
    assert BlendWeights.of({"section": 1}, "similarity").section == 1.0


def test_models_saved_before_the_section_scale_keep_the_linear_share():
    config = to_json(Recommender().get_params())
    del config["section_scale"]
    assert from_json(config)["section_scale"] == "linear"
    assert to_json(Recommender().get_params())["section_scale"] == "log"


# ---------------------------------------------------------------- on a MIND-format log
def _mind_log(tmp_path, impressions):
    """A news.tsv with eight soccer reports, a tennis story, two finance, two lifestyle and a
    weather story (the soccer reports share words, the rest only "Rovers"), and a behaviors.tsv of ``(history, impression)``."""
    clubs = ["Rovers", "City", "United", "Albion", "Wanderers", "Athletic", "Villa", "Town"]
    news = [(f"s{i}", "sports", "soccer", f"{club} match report goals") for i, club in enumerate(clubs)]
    news += [("f1", "finance", "markets", "Central bank raises interest rates"),
             ("f2", "finance", "markets", "Bond yields climb after inflation data"),
             ("l1", "lifestyle", "recipes", "Rovers fans bake pumpkin soup recipe"),
             ("l2", "lifestyle", "recipes", "Autumn baking with apples"),
             ("w1", "weather", "forecast", "Storm warning for the coast"),
             ("t1", "sports", "tennis", "Veteran reaches the Melbourne quarter-final")]
    news_path, behaviors_path = tmp_path / "news.tsv", tmp_path / "behaviors.tsv"
    news_path.write_text("".join(f"{i}\t{cat}\t{sub}\t{title}\t\n" for i, cat, sub, title in news))
    behaviors_path.write_text("".join(f"{n}\tU{n}\t11/15/2019 9:00:00 AM\t{history}\t{impression}\n"
                                      for n, (history, impression) in enumerate(impressions, start=1)))
    return news_path, behaviors_path


def test_on_a_mind_log_the_section_profile_ranks_the_readers_section_first(tmp_path):
    # No shared words: only the section profile can tell the sport story from the weather one.
    news, behaviors = _mind_log(tmp_path, [("s0 s1 s2", "w1-0 t1-1"), ("s0 f1", "l2-0 f2-1")])
    result = evaluate_mind(news, behaviors)
    assert result["auc"] == 1.0 and result["mrr"] == 1.0
    no_profile = Recommender(blend_weights={"section": 0, "subsection": 0}).fit(read_mind_news(news))
    without = blend_scorer(no_profile)(["s0", "s1", "s2"], ["w1", "t1"])
    assert without[0] == without[1]  # the other signals cannot tell them apart


def test_on_a_mind_log_the_log_scale_prefers_a_section_read_to_a_few_shared_words(tmp_path):
    # A reader of eight soccer reports and one finance story; clicked: the other finance story
    # (no shared words), not the recipe that shares "Rovers" with a read but is in a section
    # never opened. The linear share barely separates 1 read of 9 from none (0.12 vs 0.02);
    # on the log scale a section never opened is worth far less (0.69 vs 0.40).
    history = " ".join(f"s{i}" for i in range(8)) + " f1"
    news, behaviors = _mind_log(tmp_path, [(history, "l1-0 f2-1")])
    weights = {"article": 0, "history": 0, "history_max": 1, "section": 1, "subsection": 0, "popularity": 0,
               "freshness": 0}
    assert evaluate_mind(news, behaviors, blend_weights=weights)["auc"] == 1.0
    assert evaluate_mind(news, behaviors, blend_weights=weights, section_scale="linear")["auc"] == 0.0
