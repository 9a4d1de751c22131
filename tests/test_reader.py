"""The reader's section profile: smoothed section and subsection shares, pinned by hand."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from recommender import Recommender
from recommender._options import BlendWeights, from_json, to_json
from recommender._reader import section_shares

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
