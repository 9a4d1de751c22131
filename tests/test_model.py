"""Related lists through the public Recommender API: known answers, filters, exclusions, errors."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from recommender import (
    DuplicateArticleError,
    Hit,
    InvalidInputError,
    InvalidOptionError,
    NotFittedError,
    Recommender,
    RecommenderError,
    UnknownArticleError,
)

from .conftest import make_article


def ids(hits):
    return [hit.article_id for hit in hits]


@pytest.fixture()
def model(tiny_articles):
    return Recommender().fit(tiny_articles)


def test_fit_returns_self_and_init_only_stores_options(tiny_articles):
    rec = Recommender(title_weight=3.0, duplicate_threshold=0.8)
    assert not hasattr(rec, "index_")
    assert rec.get_params()["title_weight"] == 3.0
    assert rec.fit(tiny_articles) is rec
    assert rec.article_ids == [a["id"] for a in tiny_articles]


def test_story_members_are_related_and_stand_alone_is_not(model):
    hits = model.related("port-1", k=10)
    assert all(isinstance(hit, Hit) for hit in hits)
    assert set(ids(hits)[:2]) == {"port-3", "port-2"} or set(ids(hits)[:2]) == {"port-3", "port-2-copy"}
    assert "soup" not in ids(hits)
    assert ids(model.related("cup-1"))[0] == "cup-2"


def test_never_the_article_itself_nor_its_near_duplicate(model):
    hits = ids(model.related("port-2", k=10))
    assert "port-2" not in hits
    assert "port-2-copy" not in hits
    assert "port-2" not in ids(model.related("port-2-copy", k=10))


def test_only_one_of_two_near_duplicates_fills_a_list(model):
    hits = ids(model.related("port-1", k=10))
    assert len({"port-2", "port-2-copy"} & set(hits)) == 1


def test_scores_are_cosines_best_first_with_explanations(model):
    hits = model.related("port-1", k=10)
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s < model.duplicate_threshold for s in scores)
    assert "calden" in hits[0].terms
    assert hits[0].explanation.startswith("shares ")


def test_k_limits_length_and_bad_k_raises(model):
    assert len(model.related("port-1", k=1)) == 1
    assert len(model.related("port-1", k=10_000)) <= 6
    for bad in (0, -1, 1.5, "3", True, None):
        with pytest.raises(InvalidOptionError):
            model.related("port-1", k=bad)


def test_unknown_id_raises_keyerror_subclass(model):
    with pytest.raises(UnknownArticleError) as caught:
        model.related("nope")
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, RecommenderError)
    assert "nope" in str(caught.value)
    with pytest.raises(UnknownArticleError):
        model.related(["unhashable"])


def test_same_and_other_section_filters(model):
    same = model.related("port-1", same_section=True)
    assert ids(same) and all(model.article_metadata(i)["section"] == "business" for i in ids(same))
    other = model.related("port-1", same_section=False)
    assert ids(other) == ["port-2-copy"]
    with pytest.raises(InvalidOptionError):
        model.related("port-1", same_section="yes")


def test_max_age_filter_is_symmetric_in_time(model):
    hits = ids(model.related("port-2", max_age=timedelta(days=7)))
    assert "port-1" in hits and "port-3" in hits  # 7 days before and after
    assert ids(model.related("port-2", max_age=timedelta(days=6))) == []
    with pytest.raises(InvalidOptionError):
        model.related("port-2", max_age=timedelta(days=-1))
    with pytest.raises(InvalidOptionError):
        model.related("port-2", max_age=7)


def test_exclude_ids(model):
    hits = ids(model.related("port-1", exclude=["port-3", "unknown-is-ignored"]))
    assert "port-3" not in hits and hits
    with pytest.raises(InvalidOptionError):
        model.related("port-1", exclude="port-3")


def test_related_to_text_skips_indexed_copies_of_the_text(model):
    hits = model.related_to_text(
        "Calden port strike enters second week",
        "<p>The Calden dock strike entered a second week as container ships queued outside the harbour.</p>",
    )
    assert not {"port-2", "port-2-copy"} & set(ids(hits))
    assert ids(hits)[0] in {"port-1", "port-3"}
    assert model.related_to_text("x", "quantum chromodynamics") == []


def test_related_to_text_filters_need_context(model):
    with pytest.raises(InvalidOptionError):
        model.related_to_text("Calden", "strike", max_age=timedelta(days=1))
    hits = model.related_to_text("Calden", "dock strike", section="business", same_section=True,
                                 published_at="2026-10-14T00:00:00+00:00", max_age=timedelta(days=2))
    assert ids(hits) == ["port-3"]
    with pytest.raises(InvalidOptionError):
        model.related_to_text("Calden", "strike", published_at="2026-10-14T00:00:00")


def test_deterministic_and_ties_broken_by_id():
    twins = [
        make_article("b", "Harbour crane", "crane harbour lift beta"),
        make_article("a", "Harbour crane", "crane harbour lift alpha"),
        make_article("q", "Harbour crane", "harbour crane lift cargo"),
        make_article("z", "Soup", "pumpkin soup recipe"),
    ]
    rec = Recommender().fit(twins)
    first = rec.related("q")
    assert ids(first) == ["a", "b"] and first[0].score == first[1].score
    assert rec.related("q") == first


def test_not_fitted_and_bad_options(tiny_articles):
    with pytest.raises(NotFittedError):
        Recommender().related("x")
    for bad in ({"duplicate_threshold": 0}, {"duplicate_threshold": 1.5}, {"title_weight": -1},
                {"min_df": 0}, {"max_df": 2.0}, {"stop_words": "klingon"}, {"explain_terms": -1}):
        with pytest.raises(InvalidOptionError):
            Recommender(**bad).fit(tiny_articles)
    with pytest.raises(InvalidInputError):
        Recommender().fit([])


def test_add_articles_searchable_at_once_and_equal_to_refit_vectors(tiny_articles):
    base, extra = tiny_articles[:-2], tiny_articles[-2:]
    rec = Recommender().fit(base)
    fitted_terms = rec.vectorizer_.terms_.copy()
    rec.add_articles(extra + [make_article("port-4", "Calden harbour reopens", "Shipping at the Calden harbour is back to normal after the strike.", 16)])
    assert "port-4" in ids(rec.related("port-3"))
    assert np.array_equal(rec.vectorizer_.terms_, fitted_terms)
    # same vocabulary and IDF as the incremental model: identical vectors
    full = rec.vectorizer_.transform([rec.article_metadata(i)["title"] for i in ["port-1"]], [tiny_articles[0]["body"]])
    assert abs(full - rec.index_.row_vector(0)).max() < 1e-6
    with pytest.raises(DuplicateArticleError):
        rec.add_articles([tiny_articles[0]])
    assert len(rec.article_ids) == len(tiny_articles) + 1


def test_article_with_no_known_terms_has_an_empty_list(tiny_articles):
    rec = Recommender().fit(tiny_articles)
    rec.add_articles([make_article("new", "Zzyzx", "qwertyuiop asdfghjkl")])
    assert rec.related("new") == []


def test_removed_articles_leave_every_list_and_can_come_back(tiny_articles, tmp_path):
    from datetime import datetime, timezone

    from recommender import Reaction

    rec = Recommender().fit(tiny_articles)
    now = datetime(2026, 10, 16, tzinfo=timezone.utc)
    rec.record_reactions([Reaction("port-3", "good", 5, now)], now=now)
    assert "port-3" in ids(rec.related("port-1")) and ids(rec.ranking(now=now)) == ["port-3"]
    rec.remove_articles(["port-3"])
    assert "port-3" not in ids(rec.related("port-1")) and rec.ranking(now=now) == []
    assert "port-3" not in ids(rec.recommend(now=now)) and "port-3" not in rec.article_ids
    with pytest.raises(UnknownArticleError):
        rec.related("port-3")
    with pytest.raises(UnknownArticleError):
        rec.remove_articles(["port-3"])
    rec.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m")
    assert "port-3" not in ids(loaded.related("port-1"))
    loaded.add_articles([dict(tiny_articles[3], body="Calden strike deal: dock workers back at the harbour.")])
    assert "port-3" in ids(loaded.related("port-1"))
    ids_, _ = loaded.related_batch(k=3)  # batch runs with a removed row present
    assert list(ids_[0]) == [h.article_id for h in loaded.related("port-1", k=3)] + [""] * (3 - len(loaded.related("port-1", k=3)))


def test_drift_tells_when_a_refit_is_due(tiny_articles, tmp_path):
    rec = Recommender().fit(tiny_articles)  # 7 articles
    assert rec.drift()["refit_advised"] is False and rec.drift()["known_token_share"] is None
    rec.add_articles([make_article("new-1", "Rovers cup final", "Rovers reach the cup final at the stadium", 16)])
    report = rec.drift()
    assert report["added"] == 1 and report["known_token_share"] == 1.0 and report["refit_advised"] is False
    rec.add_articles([make_article("new-2", "Zebra quokka", "Zebra quokka wombat platypus echidna", 17)])
    report = rec.drift()
    assert report["known_token_share"] < 0.85 and any("vocabulary" in r for r in report["reasons"])
    rec.add_articles([make_article("new-3", "Rovers", "Rovers cup stadium final", 18)])
    assert any("added since fit" in r for r in rec.drift()["reasons"])  # 3 of 7 fitted
    rec.save(tmp_path / "m")
    assert Recommender.load(tmp_path / "m").drift() == rec.drift()


def test_fit_reads_its_articles_once_a_chunk_at_a_time(tiny_articles, monkeypatch):
    """A fit tokenises each chunk of articles as it reads it (a file's text is never held
    whole) and gives the model a fit on the loaded list gives."""
    import recommender._fit as fit_module
    from recommender._vectorize import TextVectorizer

    articles = list(tiny_articles)
    whole = Recommender(neighbours=3).fit(articles)
    monkeypatch.setattr(fit_module, "FIT_CHUNK", 2)
    pulled, pulled_at_tokenising = [], []
    original = TextVectorizer._tokens

    def tokens(self, texts, **options):
        pulled_at_tokenising.append(len(pulled))
        return original(self, texts, **options)

    monkeypatch.setattr(TextVectorizer, "_tokens", tokens)

    def one_by_one():
        for article in articles:
            pulled.append(article["id"])
            yield article

    streamed = Recommender(neighbours=3).fit(one_by_one())
    assert pulled_at_tokenising[:2] == [2, 2]  # the first chunk is tokenised before the third article is read
    assert len(pulled) == len(articles) and streamed.article_ids == whole.article_ids
    assert (streamed.index_.vectors != whole.index_.vectors).nnz == 0
    for article_id in whole.article_ids:
        assert streamed.related(article_id) == whole.related(article_id)


def test_freed_memory_goes_back_to_the_system_before_the_search():
    """After the TF-IDF step a fit hands the pages glibc kept from freed objects back to the
    system: 100 MB of 1 KB blocks, freed between blocks still alive, leave the process."""
    import ctypes
    import os
    import sys

    from recommender._fit import release_freed_memory

    if not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "malloc_trim"):
        pytest.skip("glibc's malloc_trim")

    def resident() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    blocks = [bytearray(b"x" * 1000) for _ in range(100_000)]
    kept = blocks[::50]  # alive between the freed ones: glibc cannot give the gaps back on its own
    del blocks
    before = resident()
    release_freed_memory()
    assert before - resident() > 50_000_000
    assert len(kept) == 2_000


def test_a_bad_record_met_while_workers_tokenise_is_named(monkeypatch):
    """With n_jobs=2 the chunks are tokenised on worker processes while the records are still
    being read: a bad record, or an id seen twice, still fails with its position and id."""
    import recommender._fit as fit_module
    from recommender import DuplicateArticleError, InvalidInputError
    from recommender.evaluation.synthetic import generate_articles

    monkeypatch.setattr(fit_module, "FIT_CHUNK", 50)
    articles = list(generate_articles(300, seed=1))
    articles[170]["published_at"] = "not a date"
    with pytest.raises(InvalidInputError, match="<iterable>:171, id 'syn-000170'"):
        Recommender(neighbours=0, n_jobs=2).fit(articles)
    articles[170]["published_at"] = articles[169]["published_at"]
    articles[200]["id"] = articles[10]["id"]
    with pytest.raises(DuplicateArticleError, match="first seen at <iterable>:11"):
        Recommender(neighbours=0, n_jobs=2).fit(articles)


def test_a_bad_record_never_raises_inside_joblib_s_feeding_thread(monkeypatch):
    """The workers' feed ends at a bad record and the error is raised after the chunks already
    sent: raised inside joblib's feeding thread, it aborts the workers mid-task (loky's manager
    thread then failed now and then with a traceback of its own, beside the record's error)."""
    import joblib

    import recommender._fit as fit_module
    from recommender import InvalidInputError
    from recommender.evaluation.synthetic import generate_articles

    fed, raised_in_feed = [], []

    class InlineParallel:  # joblib's interface, run here: which chunks it is fed, and whether the feed raises
        def __init__(self, n_jobs=None, return_as="list"):
            pass

        def __call__(self, tasks):
            try:
                for function, args, kwargs in tasks:
                    fed.append(function)
                    yield function(*args, **kwargs)
            except InvalidInputError as error:
                raised_in_feed.append(error)
                raise

    monkeypatch.setattr(joblib, "Parallel", InlineParallel)
    monkeypatch.setattr(fit_module, "FIT_CHUNK", 50)
    articles = list(generate_articles(300, seed=1))
    articles[170]["published_at"] = "not a date"
    with pytest.raises(InvalidInputError, match="<iterable>:171, id 'syn-000170'"):
        Recommender(neighbours=0, n_jobs=2).fit(articles)
    assert not raised_in_feed
    assert len(fed) == 3  # the chunks read before the bad record's (records 1-150) were all tokenised
