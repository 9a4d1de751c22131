"""Article ids: an integer id is its decimal string at every public entry point, as
``load_articles`` stores ``{"id": 1}``."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from recommender import Recommender, UnknownArticleError

NOW = datetime(2026, 10, 10, tzinfo=timezone.utc)


@pytest.fixture()
def numbered(tiny_articles):
    articles = [{**article, "id": number} for number, article in enumerate(tiny_articles, start=1)]
    return Recommender().fit(articles, reactions=[{"article_id": 2, "reaction": "good", "at": "2026-10-08T10:00:00Z"}],
                             now=NOW)


def test_integer_ids_find_articles_loaded_from_integers(numbered):
    assert numbered.article_ids == [str(n) for n in range(1, 8)]
    assert numbered.related(1) == numbered.related("1")
    assert numbered.related(np.int64(1)) == numbered.related("1")
    assert numbered.related(1, exclude=[2]) == numbered.related("1", exclude=["2"])
    assert numbered.recommend(1, history=[2, 3], now=NOW) == numbered.recommend("1", history=["2", "3"], now=NOW)
    assert numbered.page(1, history=[5], now=NOW, exclude=[4]) == numbered.page("1", history=["5"], now=NOW,
                                                                               exclude=["4"])
    assert numbered.ranking(now=NOW, exclude=[2]) == numbered.ranking(now=NOW, exclude=["2"])
    assert np.array_equal(numbered.similarity([1, 2]), numbered.similarity(["1", "2"]))
    ids, _ = numbered.related_batch([1, 2], k=2)
    assert np.array_equal(ids, numbered.related_batch(["1", "2"], k=2)[0])
    assert numbered.article_metadata(3)["id"] == "3"
    assert numbered.ranking(now=NOW)[0].article_id == "2"
    numbered.remove_articles([7])
    assert "7" not in numbered.article_ids


def test_other_types_stay_unknown(numbered):
    for bad in (1.0, True, b"1"):
        with pytest.raises(UnknownArticleError):
            numbered.related(bad)
