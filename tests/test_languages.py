"""Languages: codes, per-language analysis, same-language lists, and a bilingual model end to end.

The bilingual sample (``tests/data/bilingual_articles.jsonl``, written for these tests) holds six
stories in English and Spanish; four are told in both languages, one only in English, one only
in Spanish. Each record carries its ``story`` label (ignored by the loader).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from recommender import InvalidInputError, InvalidOptionError, Recommender, load_articles
from recommender import _store as store
from recommender._languages import LANGUAGES, article_languages, normalize_language, stop_words_of
from recommender._text import StemCache, english_stop_words
from recommender._vectorize import TextVectorizer

DATA = Path(__file__).parent / "data" / "bilingual_articles.jsonl"
RECORDS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
LANGUAGE = {record["id"]: record["language"] for record in RECORDS}
STORY = {record["id"]: record["story"] for record in RECORDS}


@pytest.fixture(scope="module")
def articles():
    return load_articles(DATA)


@pytest.fixture(scope="module")
def model(articles):
    return Recommender().fit(articles)


@pytest.fixture(scope="module")
def crossing(articles):
    return Recommender(cross_language=True).fit(articles)


# -- codes and stop words ----------------------------------------------------------------------

@pytest.mark.parametrize("tag, code", [("en", "en"), ("EN", "en"), ("en-GB", "en"), ("en_gb", "en"),
                                       (" es-MX ", "es"), ("pt-BR", "pt"), ("Spanish", "es"), ("german", "de"),
                                       ("nb", "no"), ("nn-NO", "no"), ("de-CH-1996", "de")])
def test_language_tags_normalise_to_their_primary_code(tag, code):
    assert normalize_language(tag) == code


@pytest.mark.parametrize("tag", ["", "x", "zh", "ja-JP", "klingon", "e n", "en--GB", "1234"])
def test_unsupported_or_malformed_tags_are_refused(tag):
    with pytest.raises(ValueError, match="language"):
        normalize_language(tag)


def test_every_language_has_a_stemmer():
    for code in LANGUAGES:
        stem = StemCache(language=code)
        assert stem.language == code and len(stem(["words", "word"])) == 2


def test_stop_words_per_language():
    assert stop_words_of("en") == english_stop_words()
    assert {"und", "der", "die", "nicht"} <= stop_words_of("de")
    assert {"los", "las", "que", "para"} <= stop_words_of("es")
    assert "the" not in stop_words_of("es") and "los" not in stop_words_of("de")
    assert stop_words_of("tr") == frozenset()  # no Snowball list: IDF alone weighs function words
    assert all(len(stop_words_of(code)) > 40 for code in ("da", "nl", "fi", "fr", "hu", "it", "no", "pt",
                                                           "ru", "sv", "ga", "id"))


def test_article_languages_name_the_article_with_an_unsupported_code():
    assert article_languages(["a", "b", "c"], ["ES", None, "de-AT"], default="en", multilingual=True) == \
        ["es", "en", "de"]
    assert article_languages(["a", "b"], ["es", "xx"], default="fr", multilingual=False) == ["fr", "fr"]
    with pytest.raises(InvalidInputError, match="'b'.*not supported") as caught:
        article_languages(["a", "b"], ["es", "xx"], default="en", multilingual=True)
    assert caught.value.record_id == "b"


# -- analysis ----------------------------------------------------------------------------------

def _terms(language: str, title: str, body: str, **options) -> set[str]:
    vectorizer = TextVectorizer(**options).fit([title, "otro"], [body, "texto distinto sin relación"],
                                               [language, language])
    return set(vectorizer.terms_)


def test_each_language_uses_its_stemmer_and_stop_words():
    spanish = _terms("es", "Huelgas en los puertos", "La huelga del puerto sigue y los estibadores esperan.")
    assert {"huelg", "puert", "estib"} <= spanish  # huelga/huelgas one term, puerto/puertos one term
    assert not {"los", "la", "del", "en", "y"} & spanish
    german = _terms("de", "Streiks im Hafen", "Der Streik im Hafen geht weiter, und die Arbeiter warten.")
    assert {"streik", "haf", "arbeit"} <= german
    assert not {"der", "die", "und", "im"} & german
    english = _terms("en", "Strikes at the ports", "The strike at the port goes on and workers wait.")
    assert {"strike", "port", "worker"} <= english and not {"the", "at", "and"} & english


def test_the_same_word_is_stemmed_by_its_own_language():
    vectorizer = TextVectorizer(max_df=1.0).fit(["", ""], ["computers hospital", "computers hospital"], ["en", "es"])
    assert set(vectorizer.terms_) == {"comput", "hospit", "computers", "hospital"}  # Porter2 vs Spanish Snowball


def test_german_capitals_are_not_taken_for_names():
    body = "Die Arbeiter im Hafen streiken. Der Hafen bleibt zu."
    weighted = TextVectorizer(proper_noun_weight=3)
    plain = TextVectorizer(proper_noun_weight=1)
    assert weighted._tokens([body], boilerplate=True, languages=["de"]) == \
        plain._tokens([body], boilerplate=True, languages=["de"])
    assert weighted._tokens(["The strike in Calden ended."], boilerplate=True, languages=["en"])[0].count("calden") == 3


def test_combining_marks_stay_inside_words_outside_english():
    vectorizer = TextVectorizer(stem=False).fit(["नमस्ते दुनिया"], ["भारत में बारिश"], ["hi"])
    assert {"नमस्ते", "दुनिया", "भारत", "बारिश"} <= set(vectorizer.terms_)


def test_english_only_models_analyse_exactly_as_before(articles):
    english = [a for a in articles if a.language == "en"]
    titles, bodies = [a.title for a in english], [a.body for a in english]
    legacy = TextVectorizer(stop_words="english", multilingual=False).fit_transform(titles, bodies)
    tagged = TextVectorizer().fit_transform(titles, bodies, ["en"] * len(english))
    assert (legacy != tagged).nnz == 0


def test_multilingual_false_analyses_every_article_in_the_model_language(articles):
    rec = Recommender(multilingual=False, language="es").fit(articles)
    assert rec.catalog_.language_names == ["es"]
    assert "strik" in set(rec.vectorizer_.terms_)  # English text through the Spanish stemmer


# -- lists ---------------------------------------------------------------------------------------

def test_related_lists_keep_to_the_article_language_by_default(model):
    for article_id in model.article_ids:
        hits = model.related(article_id, k=10)
        assert all(LANGUAGE[h.article_id] == LANGUAGE[article_id] for h in hits), article_id
    assert [h.article_id for h in model.related("es-strike-1", k=1)] == ["es-strike-2"]
    assert [h.article_id for h in model.related("en-fire-1", k=1)] == ["en-fire-2"]


def test_cross_language_lists_are_opt_in(model, crossing):
    crossed = {article_id: [h.article_id for h in crossing.related(article_id, k=10)]
               for article_id in crossing.article_ids}
    pairs = {(a, b) for a, hits in crossed.items() for b in hits if LANGUAGE[a] != LANGUAGE[b]}
    assert pairs and all(STORY[a] == STORY[b] for a, b in pairs)  # names and numbers carry the same story
    assert ("es-rates-2", "en-rates-1") in pairs
    assert not any(LANGUAGE[h.article_id] != "es" for h in model.related("es-rates-2"))


@pytest.mark.parametrize("strategy", ["full", "profiles"])
@pytest.mark.parametrize("cross_language", [False, True])
def test_batch_lists_equal_single_calls(articles, strategy, cross_language):
    rec = Recommender(strategy=strategy, cross_language=cross_language).fit(articles)
    ids, scores = rec.related_batch(k=5)
    for article_id, row_ids, row_scores in zip(rec.article_ids, ids, scores):
        hits = rec.related(article_id, k=5)
        assert [i for i in row_ids if i] == [h.article_id for h in hits]
        np.testing.assert_allclose(row_scores[:len(hits)], [h.score for h in hits], rtol=1e-6)


def test_recommendations_and_pages_keep_to_the_article_language(model, crossing):
    now = "2026-12-01T00:00:00+00:00"
    from recommender._time import parse_datetime

    moment = parse_datetime(now)
    for article_id in ("es-fest-1", "en-cup-1", "es-rates-1"):
        assert all(LANGUAGE[h.article_id] == LANGUAGE[article_id]
                   for h in model.recommend(article_id, k=8, now=moment))
        page = model.page(article_id, now=moment)
        assert all(LANGUAGE[h.article_id] == LANGUAGE[article_id] for h in page.related + page.recommendation)
    # the Spanish-only archive part still fills the list (8 Spanish stories besides the article)
    assert len(model.recommend("es-fest-1", k=8, now=moment)) == 8
    mixed = {LANGUAGE[h.article_id] for h in crossing.recommend("es-fest-1", k=8, now=moment)}
    assert mixed == {"en", "es"}


def test_related_to_text_takes_a_language(model, crossing):
    title = "Los bomberos evacuan pueblos por el incendio de Valmora"
    body = "El incendio de las colinas de Valmora obligó a evacuar pueblos; los bomberos y los helicópteros siguen."
    hits = model.related_to_text(title, body, k=3, language="ES-es")
    assert hits and all(LANGUAGE[h.article_id] == "es" for h in hits)
    assert STORY[hits[0].article_id] == "valmora-fire"
    english = model.related_to_text("Valmora wildfire", "Firefighters fight the wildfire in the Valmora hills.", k=3)
    assert english and all(LANGUAGE[h.article_id] == "en" for h in english)  # None: the model's language
    assert model.related_to_text(title, body, k=3, language="fr") == []  # no French article
    assert crossing.related_to_text(title, body, k=10, language="fr")  # analysed in French, any language
    with pytest.raises(InvalidOptionError, match="not supported"):
        model.related_to_text(title, body, language="klingon")


# -- input errors, updates, storage --------------------------------------------------------------

def test_an_unsupported_language_is_refused_naming_the_article(articles):
    bad = dict(RECORDS[0], id="zh-1", language="zh-Hans")
    with pytest.raises(InvalidInputError, match="zh-Hans.*not supported") as caught:
        Recommender().fit([*RECORDS, bad])
    assert caught.value.record_id == "zh-1"
    rec = Recommender().fit(articles)
    with pytest.raises(InvalidInputError) as caught:
        rec.add_articles([dict(RECORDS[1], id="ok-new"), dict(RECORDS[2], id="bad-new", language="xx")])
    assert caught.value.record_id == "bad-new"
    assert "ok-new" not in rec.article_ids  # nothing added
    assert Recommender(multilingual=False).fit([*RECORDS, bad]).catalog_.language_names == ["en"]


def test_added_articles_are_analysed_and_filtered_in_their_language(articles):
    rec = Recommender().fit([a for a in articles if a.id != "es-fire-2"])
    rec.add_articles([dict(next(r for r in RECORDS if r["id"] == "es-fire-2"), language="es-ES")])
    assert rec.article_metadata("es-fire-2")["language"] == "es"
    hits = rec.related("es-fire-2", k=5)
    assert [h.article_id for h in hits][:1] == ["es-fire-1"]
    assert all(LANGUAGE[h.article_id] == "es" for h in hits)


def test_languages_survive_save_and_load(model, tmp_path):
    model.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m")
    assert loaded.get_params() == model.get_params()
    assert loaded.catalog_.language_names == model.catalog_.language_names
    for article_id in model.article_ids:
        assert loaded.related(article_id) == model.related(article_id)
    title, body = "Huelga en Calden", "Los estibadores del puerto de Calden siguen en huelga."
    assert loaded.related_to_text(title, body, language="es") == model.related_to_text(title, body, language="es")
    loaded.add_articles([dict(RECORDS[0], id="es-new", language="es", title="Huelga en el puerto de Calden",
                              body="La huelga de los estibadores de Calden sigue en el puerto.")])
    assert all(LANGUAGE[h.article_id] == "es" for h in loaded.related("es-new"))


def test_a_model_saved_before_languages_loads_as_one_language(articles, tmp_path):
    english = [a for a in articles if a.language == "en"]
    model = Recommender().fit(english)
    model.save(tmp_path / "m")
    version = store.resolve(tmp_path / "m")
    manifest = json.loads((version / "manifest.json").read_text())
    for name in ("catalog_languages.npy", "facets.json"):
        (version / name).unlink()
        manifest["files"].pop(name)
    for part in ("config", "vectorizer"):
        for option in ("language", "multilingual", "cross_language"):
            manifest[part].pop(option, None)
        if manifest[part].get("stop_words") == "language":
            manifest[part]["stop_words"] = "english"
    (version / "manifest.json").write_text(json.dumps(manifest))
    old = Recommender.load(tmp_path / "m")
    assert old.multilingual is False and old.vectorizer_.multilingual is False
    assert old.catalog_.language_names == ["en"]
    for article_id in model.article_ids:
        assert old.related(article_id) == model.related(article_id)
    # a Spanish article added to the old model is analysed as the model always analysed: in English
    old.add_articles([dict(RECORDS[2], id="es-late")])
    assert old.article_metadata("es-late")["language"] == "en"


def test_language_options_are_validated():
    for bad in ({"language": "klingon"}, {"language": None}, {"multilingual": 1}, {"cross_language": "yes"},
                {"stop_words": "spanish"}):
        with pytest.raises(InvalidOptionError):
            Recommender(**bad).fit(RECORDS)
    assert Recommender(language="ES-mx").fit(RECORDS).vectorizer_.default_language == "es"


def test_command_line_builds_and_searches_by_language(tmp_path, capsys):
    from recommender.cli import main

    model = tmp_path / "m"
    assert main(["build", str(DATA), "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["related", "--model", str(model), "--title", "Huelga en el puerto de Calden", "--body",
                 "Los estibadores de Calden siguen en huelga en el puerto.", "--language", "es", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)["hits"]
    assert items and all(LANGUAGE[item["article_id"]] == "es" for item in items)
    assert main(["related", "--model", str(model), "--body", "texto", "--language", "klingon"]) == 1
    assert "not supported" in capsys.readouterr().err


def test_catalog_language_codes_round_trip_and_are_checked():
    from recommender._catalog import Catalog

    def record(article_id, language):
        return {"id": article_id, "title": "t", "section": None, "url": None, "tags": [],
                "published_at": "2026-10-01T08:00:00+00:00", "language": language}

    catalog = Catalog([record("a", "es"), record("b", "en"), record("c", "es")])
    assert catalog.language_names == ["es", "en"] and not catalog.one_language
    assert catalog.other_language(catalog.language_code("es")).tolist() == [False, True, False]
    arrays, sections = catalog.to_arrays()
    loaded = Catalog.from_arrays(arrays, sections, facets=catalog.facet_names())
    assert [loaded.language(row) for row in range(3)] == ["es", "en", "es"]
    assert loaded.record(0)["language"] == "es" and loaded.language_code("fr") == -2
    with pytest.raises(ValueError, match="language codes out of range"):
        Catalog.from_arrays(arrays, sections, facets={"languages": ["es"]})
    old = {name: array for name, array in arrays.items() if name != "catalog_languages"}
    assert Catalog.from_arrays(old, sections, default_language="de").language_names == ["de"]
    assert Catalog([record("x", "en"), record("y", "en")]).one_language


@pytest.mark.parametrize("strategy", ["auto", "full"])
def test_batch_lists_equal_single_calls_with_languages_rules_and_the_time_prior(articles, strategy):
    """The three list filters that meet in one search (the language, the editorial mask and the
    time prior) give the same lists in a batch as in single calls."""
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    model = Recommender(strategy=strategy, time_scale_days=2.0).fit(articles)
    ids = model.article_ids
    model.block(ids[3])
    model.block(ids[5], under=ids[0])
    model.set_eligibility([{"list": "related", "field": "section", "op": "not", "value": "sports"}])
    batch_ids, batch_scores = model.related_batch(ids, k=5, now=now)
    assert (batch_ids[:, 0] != "").sum() > len(ids) // 2
    for position, article_id in enumerate(ids):
        hits = model.related(article_id, k=5, now=now)
        assert [hit.article_id for hit in hits] == [i for i in batch_ids[position] if i]
        assert np.allclose([hit.score for hit in hits], batch_scores[position][:len(hits)])
        assert ids[3] not in {hit.article_id for hit in hits}
        assert all(LANGUAGE[hit.article_id] == LANGUAGE[article_id] for hit in hits)
