"""TextVectorizer: Snowball stemming, display terms, state round trips and options."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from recommender.exceptions import InvalidInputError, InvalidOptionError, RecommenderError
from recommender.exceptions import StemmerUnavailableError
from recommender._vectorize import TextVectorizer

# "strike" in three inflections; "company" twice as often as "companies"
TITLES = ["Dock workers strike", "Strikes spread", "Striking staff", "Pumpkin soup"]
BODIES = [
    "The company said the strike halted shipping. The company closed the port.",
    "Strikes spread to two more companies as the company talks failed.",
    "Striking staff met the company board near the harbour.",
    "Roast the pumpkin with garlic and blend it with cream.",
]


def fitted(**options) -> TextVectorizer:
    return TextVectorizer(max_df=1.0, **options).fit(TITLES, BODIES)


def column(vectorizer: TextVectorizer, term: str) -> int:
    return int(np.flatnonzero(vectorizer.terms_ == term)[0])


def test_stems_fold_inflections_into_one_column():
    vectorizer = fitted()
    terms = set(vectorizer.terms_)
    assert "strike" in terms and not {"strikes", "striking"} & terms
    assert "compani" in terms and not {"company", "companies"} & terms
    vectors = vectorizer.transform(TITLES, BODIES)
    strike = column(vectorizer, "strike")
    assert all(vectors[row, strike] > 0 for row in range(3)) and vectors[3, strike] == 0
    # the first and third articles share "strike" only once inflections fold together
    def cosine(vectors):
        return (vectors[0] @ vectors[2].T).toarray()[0, 0]
    assert cosine(vectors) > cosine(fitted(stem=False).transform(TITLES, BODIES))


def test_display_terms_are_the_most_frequent_surface_word():
    vectorizer = fitted()
    display = dict(zip(vectorizer.terms_, vectorizer.display_terms_))
    assert len(vectorizer.display_terms_) == len(vectorizer.terms_)
    assert display["compani"] == "company"  # 4 x company, 1 x companies
    assert display["strike"] == "strike"  # strike, strikes, striking twice each: a tie, first alphabetically
    assert display["spread"] == "spread"
    assert all(isinstance(word, str) for word in vectorizer.display_terms_)


def test_display_terms_tie_goes_to_the_alphabetically_first_word():
    vectorizer = TextVectorizer(max_df=1.0).fit(["x"] * 2, ["runs running", "running runs"])
    assert list(vectorizer.terms_) == ["run"]
    assert list(vectorizer.display_terms_) == ["running"]
    vectorizer = TextVectorizer(max_df=1.0).fit(["x"] * 2, ["runs running runs", "runs"])
    assert list(vectorizer.display_terms_) == ["runs"]  # more frequent beats alphabetically first


def test_stem_false_keeps_surface_words():
    vectorizer = fitted(stem=False)
    assert {"strike", "strikes", "striking", "company", "companies"} <= set(vectorizer.terms_)
    assert "compani" not in set(vectorizer.terms_)
    assert np.array_equal(vectorizer.display_terms_, vectorizer.terms_)
    assert vectorizer.get_params()["stem"] is False


def test_stem_is_the_default_and_a_param():
    assert TextVectorizer().stem is True
    assert TextVectorizer().get_params()["stem"] is True


@pytest.mark.parametrize("stem", [True, False])
def test_fit_transform_equals_fit_then_transform(stem):
    vectorizer = TextVectorizer(max_df=1.0, stem=stem)
    once = vectorizer.fit_transform(TITLES, BODIES)
    again = vectorizer.transform(TITLES, BODIES)
    assert (once != again).nnz == 0


@pytest.mark.parametrize("with_display", [True, False])
def test_from_state_round_trip(with_display):
    vectorizer = fitted()
    display = [str(term) for term in vectorizer.display_terms_] if with_display else None
    loaded = TextVectorizer.from_state(vectorizer.get_params(), [str(t) for t in vectorizer.terms_],
                                       vectorizer.idf_, display)
    assert loaded.stem is True
    assert np.array_equal(loaded.terms_, vectorizer.terms_)
    expected = vectorizer.display_terms_ if with_display else vectorizer.terms_
    assert np.array_equal(loaded.display_terms_, expected)
    texts = (["Dockers struck again"], ["Strikers and companies met; the striking went on."])
    assert (loaded.transform(*texts) != vectorizer.transform(*texts)).nnz == 0


def test_from_state_rejects_display_terms_of_another_length():
    vectorizer = fitted()
    with pytest.raises(InvalidInputError, match="display terms"):
        TextVectorizer.from_state(vectorizer.get_params(), vectorizer.terms_, vectorizer.idf_,
                                  vectorizer.display_terms_[:-1])


def test_params_saved_before_the_stem_option_load_without_stemming():
    old = fitted(stem=False)
    params = old.get_params()
    del params["stem"]
    loaded = TextVectorizer.from_state(params, old.terms_, old.idf_)
    assert loaded.stem is False
    assert np.array_equal(loaded.display_terms_, loaded.terms_)
    # "strikes" keeps its own column; stemming would have moved it onto "strike"
    vector = loaded.transform([""], ["strikes"])
    assert vector[0, column(loaded, "strikes")] > 0 and vector[0, column(loaded, "strike")] == 0
    assert (loaded.transform(TITLES, BODIES) != old.transform(TITLES, BODIES)).nnz == 0


def test_unseen_inflection_maps_onto_its_stems_column():
    vectorizer = TextVectorizer(max_df=1.0).fit(["Port strike", "Pumpkin soup"],
                                                ["The strike halted shipping.", "Roast the pumpkin."])
    assert "strikes" not in vectorizer._stem_cache()._memo  # never seen at fit time
    vector = vectorizer.transform([""], ["Strikes"])
    assert vector.nnz == 1 and vector[0, column(vectorizer, "strike")] == pytest.approx(1.0)
    _, known, total = vectorizer.transform_with_coverage(["Strikes"], ["striking pumpkins and zebras"])
    assert (known, total) == (3, 4)  # strikes, striking, pumpkins known by stem; zebras not
    _, known, total = TextVectorizer(max_df=1.0, stem=False).fit(
        ["Port strike", "Pumpkin soup"], ["The strike halted shipping.", "Roast the pumpkin."]
    ).transform_with_coverage(["Strikes"], ["striking pumpkins and zebras"])
    assert (known, total) == (0, 4)


@pytest.mark.parametrize("stem", ["yes", 1, 0, None, np.bool_(True)])
def test_invalid_stem_option_raises(stem):
    with pytest.raises(InvalidOptionError, match="stem"):
        TextVectorizer(stem=stem).fit(TITLES, BODIES)
    params = fitted().get_params() | {"stem": stem}
    with pytest.raises(InvalidOptionError, match="stem"):
        TextVectorizer.from_state(params, ["strike"], np.ones(1))


def test_falls_back_to_snowballstemmer(monkeypatch):
    pytest.importorskip("snowballstemmer")
    stemmed = fitted()
    monkeypatch.setitem(sys.modules, "Stemmer", None)  # PyStemmer not importable
    vectorizer = fitted()
    assert vectorizer._stem_cache().backend == "snowballstemmer"
    assert np.array_equal(vectorizer.terms_, stemmed.terms_)
    assert np.array_equal(vectorizer.display_terms_, stemmed.display_terms_)


def test_no_stemmer_raises_only_when_stemming(monkeypatch):
    params = fitted().get_params()
    monkeypatch.setitem(sys.modules, "Stemmer", None)
    monkeypatch.setitem(sys.modules, "snowballstemmer", None)
    with pytest.raises(StemmerUnavailableError, match="PyStemmer") as caught:
        TextVectorizer().fit(TITLES, BODIES)
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, RecommenderError)
    with pytest.raises(StemmerUnavailableError):  # a stemmed model fails at load, not later
        TextVectorizer.from_state(params, ["strike"], np.ones(1))
    assert "strikes" in set(fitted(stem=False).terms_)
    del params["stem"]
    assert TextVectorizer.from_state(params, ["strike"], np.ones(1)).transform([""], ["strike"]).nnz == 1


@pytest.mark.parametrize("options", [{}, {"stem": False}, {"max_features": 300}, {"min_df": 2, "max_df": 0.3}])
def test_fit_in_chunks_equals_scikit_learn_count_vectorizer_in_one_pass(monkeypatch, options):
    """Fitting tokenises a chunk of articles at a time; the result must not depend on the
    chunk size and must prune as scikit-learn's CountVectorizer does on all tokens at once."""
    from sklearn.feature_extraction.text import CountVectorizer

    from recommender import _vectorize as vectorize
    from recommender.evaluation.synthetic import generate_articles

    articles = list(generate_articles(400, seed=5))
    titles, bodies = [a["title"] for a in articles], [a["body"] for a in articles]
    whole = TextVectorizer(**options)
    whole_vectors = whole.fit_transform(titles, bodies)
    monkeypatch.setattr(vectorize, "FIT_CHUNK", 7)  # 58 chunks, the vocabulary growing across them
    chunked = TextVectorizer(**options)
    chunked_vectors = chunked.fit_transform(titles, bodies)
    assert list(chunked.terms_) == list(whole.terms_)
    assert list(chunked.display_terms_) == list(whole.display_terms_)
    assert np.array_equal(chunked.idf_, whole.idf_)
    assert (chunked_vectors != whole_vectors).nnz == 0
    assert (chunked.transform(titles, bodies) != chunked_vectors).nnz == 0  # weighted chunk by chunk, into one matrix
    assert chunked_vectors.has_sorted_indices and chunked_vectors.indices.dtype == np.int32
    assert chunked_vectors.indptr[-1] == chunked_vectors.nnz == len(chunked_vectors.data)

    tokens = [t + b for t, b in zip(*whole._tokenize(titles, bodies))]
    max_df = max(2, int(whole.max_df * len(bodies))) if whole.max_df < 1 else len(bodies)
    reference = CountVectorizer(analyzer=lambda doc: doc, min_df=whole.min_df, max_df=max_df,
                                max_features=whole.max_features, binary=True).fit(tokens)
    assert list(whole.terms_) == list(reference.get_feature_names_out())


def test_fit_with_every_term_pruned_raises():
    with pytest.raises(InvalidInputError, match="no usable terms"):
        TextVectorizer(min_df=50).fit(TITLES, BODIES)
    with pytest.raises(InvalidInputError, match="no usable terms"):
        TextVectorizer().fit(["the"], ["and the of"])


def test_fit_in_chunks_keeps_empty_rows_in_place(monkeypatch):
    """Rows with no kept term (stop words only, or only pruned terms) stay empty rows at their
    place, whichever chunk they fall in, and the matrix equals a transform of the same texts."""
    from recommender import _vectorize as vectorize

    titles = [f"alpha beta story{i % 5}" if i % 4 else "the and of" for i in range(30)]
    bodies = [f"gamma delta item{i % 3} common" if i % 4 else "it is" for i in range(30)]
    monkeypatch.setattr(vectorize, "FIT_CHUNK", 4)  # every chunk starts with an empty row
    vectorizer = TextVectorizer(max_df=0.7)
    vectors = vectorizer.fit_transform(titles, bodies)
    empty = np.diff(vectors.indptr) == 0
    assert empty.tolist() == [i % 4 == 0 for i in range(30)]
    assert (vectorizer.transform(titles, bodies) != vectors).nnz == 0
    assert "common" not in set(vectorizer.terms_)  # in 22 of 30 articles: pruned by max_df


@pytest.mark.parametrize("stem", [True, False])
def test_chunked_counts_equal_counting_every_token(monkeypatch, stem):
    """Counted a chunk at a time, words first and each distinct word stemmed once, the fit
    equals counting every (stemmed) token of every article: IDF, display words (the most used
    word of each term over all chunks and languages) and the count matrices."""
    from collections import Counter

    from recommender import _vectorize as vectorize
    from recommender.evaluation.synthetic import generate_articles

    articles = list(generate_articles(120, seed=3))
    titles, bodies = [a["title"] for a in articles], [a["body"] for a in articles]
    languages = ["es" if i % 4 == 1 else "en" for i in range(len(articles))]
    monkeypatch.setattr(vectorize, "FIT_CHUNK", 17)
    vectorizer = TextVectorizer(max_df=1.0, stem=stem, multilingual=True)
    counts = vectorizer._counts(vectorizer._chunks(titles, bodies, languages))

    title_tokens = vectorizer._tokens(titles, boilerplate=False, languages=languages)
    body_tokens = vectorizer._tokens(bodies, boilerplate=True, languages=languages)
    uses = Counter((language, word) for tokens, language in zip([*title_tokens, *body_tokens], languages * 2)
                   for word in tokens)
    if stem:
        title_tokens = vectorizer._stemmed(title_tokens, languages)
        body_tokens = vectorizer._stemmed(body_tokens, languages)
    for chunks_part, token_lists in ((0, title_tokens), (1, body_tokens)):
        width = len(counts.tokens)
        got = vectorize.sp.vstack([vectorize._widened(chunk[chunks_part], width) for chunk in counts.chunks]).toarray()
        expected = np.zeros_like(got)
        column_of = {token: column for column, token in enumerate(counts.tokens)}
        for row, tokens in enumerate(token_lists):
            for token in tokens:
                expected[row, column_of[token]] += 1
        assert np.array_equal(got, expected)
    if stem:
        stems = {(language, word): vectorizer._stem_cache(language)([word])[0] for language, word in uses}
        assert sorted(counts.words) == sorted((word, n, stems[language, word]) for (language, word), n in uses.items())
    else:
        assert counts.words is None


def test_tokenising_in_worker_processes_gives_the_same_fit(monkeypatch):
    """Chunks tokenised on two joblib worker processes, each over its own vocabulary, are
    renumbered into the vocabulary one process builds: same terms, display words, IDF, rows."""
    from recommender import _vectorize as vectorize
    from recommender.evaluation.synthetic import generate_articles

    articles = list(generate_articles(300, seed=7))
    titles, bodies = [a["title"] for a in articles], [a["body"] for a in articles]
    languages = ["en" if i % 3 else "es" for i in range(len(articles))]  # surface words of two languages
    monkeypatch.setattr(vectorize, "FIT_CHUNK", 23)
    one = TextVectorizer()
    one_vectors = one.fit_transform(titles, bodies, languages)
    two = TextVectorizer()
    two_vectors = two.fit_transform_chunks(two._chunks(titles, bodies, languages), n_jobs=2)
    assert list(two.terms_) == list(one.terms_) and list(two.display_terms_) == list(one.display_terms_)
    assert np.array_equal(two.idf_, one.idf_)
    assert (two_vectors != one_vectors).nnz == 0 and two_vectors.has_sorted_indices
