"""Every failure is a RecommenderError, and no update is half applied.

Regression tests for what an attack on the library tried: compressed input that is not
gzip or ends early, records separated by ``\\r`` alone, ``NaN`` counts, crafted models whose
checksums were rewritten (counts, ``.npy`` headers, options), API arguments of the wrong
kind, output paths that are devices, and the bound on reactions waiting for their article.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from recommender import (
    DuplicateArticleError,
    InvalidInputError,
    InvalidOptionError,
    Recommender,
    load_articles,
    load_reactions,
)
from recommender import _store as store
from recommender._precompute import precompute
from recommender._state import MAX_PENDING_REACTIONS
from recommender.datasets import sample_articles_path
from recommender.exceptions import ArtifactError, CorruptArtifactError

from .conftest import reseal

PUBLISHED = "2026-10-03T08:15:00+00:00"


def _record(i: int) -> dict:
    return {"id": f"a{i}", "title": f"Calden port {i}", "body": f"Dock workers strike, day {i}.",
            "published_at": PUBLISHED}


@pytest.fixture(scope="module")
def saved(tmp_path_factory, sample_model):
    root = tmp_path_factory.mktemp("refusals") / "model"
    sample_model.save(root)
    return store.resolve(root)


@pytest.fixture()
def version(saved, tmp_path):
    copy = tmp_path / "version"
    shutil.copytree(saved, copy)
    return copy


def _edit_manifest(version, change) -> None:
    manifest = json.loads((version / "manifest.json").read_text())
    change(manifest)
    (version / "manifest.json").write_text(json.dumps(manifest))
    reseal(version)


# ---------------------------------------------------------------------------- input files
def test_gzip_input_that_is_truncated_or_not_gzip_is_an_input_error_also_when_lenient(tmp_path):
    data = "".join(json.dumps(_record(i)) + "\n" for i in range(200)).encode()
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(data)[:-40])
    (tmp_path / "plain.jsonl.gz").write_bytes(data)
    (tmp_path / "plain.csv.gz").write_bytes(b"id,title\n1,2\n")
    for name, message in (("cut.jsonl.gz", "ends early"), ("plain.jsonl.gz", "not gzip"), ("plain.csv.gz", "not gzip")):
        for errors in (None, []):
            with pytest.raises(InvalidInputError, match=message) as info:
                load_articles(tmp_path / name, errors=errors)
            assert info.value.source == str(tmp_path / name)
        with pytest.raises(InvalidInputError, match=message):
            load_reactions(tmp_path / name, errors=[])


def test_jsonl_records_separated_by_carriage_returns_alone(tmp_path):
    path = tmp_path / "cr.jsonl"
    path.write_bytes("\r".join(json.dumps(_record(i)) for i in range(5)).encode())
    assert [a.id for a in load_articles(path)] == [f"a{i}" for i in range(5)]
    path.write_bytes(("\r".join(json.dumps(_record(i)) for i in range(3)) + "\r{bad\r\n" + json.dumps(_record(9))).encode())
    errors: list = []
    assert [a.id for a in load_articles(path, errors=errors)] == ["a0", "a1", "a2", "a9"]
    assert [error.line for error in errors] == [4]  # counted as universal newlines count lines
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(("\r\n".join(json.dumps(_record(i)) for i in range(3)) + "\r\n").encode())
    errors = []
    assert len(load_articles(crlf, errors=errors)) == 3 and not errors


def test_a_nan_count_is_refused_not_taken_as_one_press(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"article_id": "a", "reaction": "good", "count": NaN}\n'
                    '{"article_id": "a", "reaction": "good", "count": Infinity}\n')
    errors: list = []
    assert load_reactions(path, errors=errors) == [] and len(errors) == 2
    assert "NaN is not a JSON value" in str(errors[0])
    with pytest.raises(InvalidInputError, match="count is NaN"):
        load_reactions([{"article_id": "a", "reaction": "good", "count": float("nan")}])
    frame = pd.DataFrame([{"article_id": "a", "reaction": "good", "count": float("nan"), "at": PUBLISHED}])
    assert load_reactions(frame)[0].count == 1  # in a DataFrame NaN is a missing cell: an event


# ---------------------------------------------------------------------------- updates
def test_add_articles_applies_reactions_recorded_with_a_future_now_and_fails_whole():
    rec = Recommender().fit(load_articles(sample_articles_path()))
    wall = datetime.now(timezone.utc)
    now = wall + timedelta(days=2)  # more than the 5 minutes of clock skew past the wall clock
    at = (now - timedelta(minutes=1)).isoformat()
    report = rec.record_reactions([{"article_id": "late", "reaction": "good", "count": 4, "at": at},
                                   {"article_id": "late", "reaction": "good", "count": 2}], now=now)
    assert report.pending == 2
    article = {"id": "late", "title": "Calden harbour reopens", "body": "Ships return to the Calden harbour.",
               "published_at": now.isoformat()}
    rec.add_articles([article])
    assert rec._state.pending == ()
    assert rec.popularity_.totals(np.array([rec.catalog_.row("late")]))[0] == 6
    assert rec.ranking(k=1, now=now)[0].article_id == "late"
    before = rec._state
    with pytest.raises(DuplicateArticleError):
        rec.add_articles([dict(article, id="other"), article])
    assert rec._state is before and "other" not in rec.article_ids


def test_pending_reactions_are_bounded():
    rec = Recommender().fit(load_articles(sample_articles_path()))
    waiting = [{"article_id": f"unknown-{i % 977}", "reaction": "good", "count": 1} for i in range(MAX_PENDING_REACTIONS)]
    assert rec.record_reactions(waiting).pending == MAX_PENDING_REACTIONS
    before = rec._state
    with pytest.raises(InvalidInputError, match="above the limit"):
        rec.record_reactions([{"article_id": "unknown-x", "reaction": "good", "count": 1}])
    assert rec._state is before


# ---------------------------------------------------------------------------- API arguments
def test_api_arguments_of_the_wrong_kind_are_option_errors(sample_model, tmp_path):
    with pytest.raises(InvalidOptionError):
        sample_model.drift(max_added_share="x")
    for path in ("a\x00b", b"bytes", None, 3):
        with pytest.raises(InvalidOptionError):
            sample_model.save(path)
        with pytest.raises(InvalidOptionError):
            Recommender.load(path)
    with pytest.raises(InvalidInputError):
        load_articles(str(tmp_path / "a\x00b.jsonl"))


def test_related_batch_caps_k_at_the_archive():
    rec = Recommender().fit(load_articles(sample_articles_path()))
    ids, scores = rec.related_batch(rec.article_ids[:3], k=10**12)
    assert ids.shape == scores.shape == (3, len(rec.article_ids) - 1)
    assert np.array_equal(ids[:, :5], rec.related_batch(rec.article_ids[:3], k=5)[0])


# ---------------------------------------------------------------------------- crafted models
@pytest.mark.parametrize("count", [10, -5, 0, 10**12, "79", None])
def test_an_edited_article_count_is_refused_by_load_and_precompute(version, tmp_path, count):
    _edit_manifest(version, lambda m: m["counts"].__setitem__("articles", count))
    with pytest.raises(CorruptArtifactError, match="counts articles"):
        Recommender.load(version)
    out = tmp_path / "lists.sqlite"
    with pytest.raises(CorruptArtifactError):
        precompute(version, out, progress=False)
    assert not out.exists()


@pytest.mark.parametrize("mmap", [False, True])
def test_a_npy_header_claiming_more_items_than_the_file_holds(version, mmap):
    path = version / "vectors_data.npy"
    header = np.lib.format.header_data_from_array_1_0(np.load(path))
    header["shape"] = (10**11,)
    data = np.load(path).tobytes()
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(data)
    reseal(version)
    with pytest.raises(CorruptArtifactError, match="header describes"):
        Recommender.load(version, mmap=mmap)


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-Infinity", "1e400"])
def test_non_finite_manifest_numbers_are_refused(version, value):
    text = (version / "manifest.json").read_text()
    manifest = json.loads(text)
    seconds = manifest["config"]["ranking_max_age"]
    (version / "manifest.json").write_text(text.replace(f'"ranking_max_age": {seconds}', f'"ranking_max_age": {value}'))
    with pytest.raises(CorruptArtifactError):
        Recommender.load(version)


@pytest.mark.parametrize("name, dtype", [("vectors_data", "U12"), ("vectors_data", "float16"), ("vectors_data", ">f4"),
                                         ("vectors_indices", "int8"), ("idf", ">f8"), ("popularity_mass", "float32")])
def test_arrays_of_a_foreign_dtype_are_refused_even_without_verify(version, name, dtype):
    array = np.load(version / f"{name}.npy")
    np.save(version / f"{name}.npy", array.astype(str).astype(dtype) if dtype == "U12" else array.astype(dtype))
    reseal(version)
    for verify in (True, False):
        with pytest.raises(CorruptArtifactError, match=name):
            Recommender.load(version, verify=verify)


def test_precompute_replaces_only_regular_files(saved, tmp_path):
    """A FIFO made here stands for a device such as /dev/full (never test on a real device:
    a regression would replace it)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        with pytest.raises(ArtifactError, match="regular files"):
            precompute(saved, target, progress=False)
    with pytest.raises(ArtifactError, match="regular files"):
        precompute(saved, tmp_path / "ok.sqlite", jsonl=fifo, progress=False)
    assert fifo.is_fifo() and not (tmp_path / "ok.sqlite").exists()


@pytest.fixture(scope="module")
def saved_non_ascii(tmp_path_factory):
    extra = {"id": "zurich", "title": "Zürich café strike", "body": "Café workers in Zürich strike over pay.",
             "published_at": PUBLISHED, "section": "world"}
    rec = Recommender().fit([*load_articles(sample_articles_path()), extra])
    rec.record_reactions([{"article_id": "later", "reaction": "good", "count": 2}])
    root = tmp_path_factory.mktemp("crafted") / "model"
    rec.save(root)
    return store.resolve(root)


def _array(name, change):
    def edit(version):
        array = np.load(version / f"{name}.npy")
        array = change(array.copy()) if change(array.copy()) is not None else array
        np.save(version / f"{name}.npy", array)
    return edit


def _set(name, index, value):
    def change(array):
        array[index] = value
        return array
    return _array(name, change)


def _document(name, change):
    def edit(version):
        document = json.loads((version / f"{name}.json").read_text())
        document = change(document)
        (version / f"{name}.json").write_text(json.dumps(document))
    return edit


def _split_first_character(version):
    """Move the start of the non-ASCII title onto the second byte of its 'ü'."""
    ids = json.loads(json.dumps(Recommender.load(version).article_ids))
    row = ids.index("zurich")
    offsets = np.load(version / "catalog_titles_offsets.npy")
    offsets[row] += 2  # "Z" is one byte, "ü" two: +2 lands inside "ü"
    np.save(version / "catalog_titles_offsets.npy", offsets)


def _scaled_vectors(version):
    for name in ("vectors_data", "postings_data"):
        np.save(version / f"{name}.npy", np.load(version / f"{name}.npy") * 2)


def _reversed_first_row(version):
    indices, indptr = np.load(version / "vectors_indices.npy"), np.load(version / "vectors_indptr.npy")
    indices[indptr[0]:indptr[1]] = indices[indptr[0]:indptr[1]][::-1].copy()
    np.save(version / "vectors_indices.npy", indices)


CRAFTED = {
    "catalogue id row out of range": _set("catalog_id_rows", 0, 10**6),
    "catalogue publication order out of range": _set("catalog_by_published", 0, -10**9),
    "title offsets split a UTF-8 character": _split_first_character,
    "2-D IDF": _array("idf", lambda a: a.reshape(-1, 1)),
    "NaN IDF": _set("idf", 0, np.nan),
    "negative IDF": _set("idf", 0, -1.0),
    "NaN vector weight": _set("vectors_data", 0, np.nan),
    "infinite profile cosine": _set("profiles_data", 0, np.inf),
    "vectors not unit length": _scaled_vectors,
    "postings that are not the transpose": _set("postings_data", 0, 0.123),
    "unsorted column indices": _reversed_first_row,
    "negative popularity mass": _array("popularity_mass", lambda a: (a.__setitem__((0, 0), -1.0), a)[1]),
    "infinite popularity time": _set("popularity_last", 0, np.inf),
    "non-string term": _document("terms", lambda d: [17, *d[1:]]),
    "duplicate term": _document("terms", lambda d: [d[1], *d[1:]]),
    "string growth": _document("growth", lambda d: "x"),
    "growth of a string number": _document("growth", lambda d: {**d, "added": "3"}),
    "duplicate section": _document("sections", lambda d: [d[1], *d[1:]]),
    "negative pending count": _document("pending_reactions", lambda d: [[d[0][0], d[0][1], -4, d[0][3]]]),
    "pending reaction of the wrong shape": _document("pending_reactions", lambda d: [["a", "b"]]),
}


@pytest.mark.parametrize("what", CRAFTED)
def test_values_no_saved_model_holds_are_refused_at_load(saved_non_ascii, tmp_path, what):
    version = tmp_path / "version"
    shutil.copytree(saved_non_ascii, version)
    CRAFTED[what](version)
    reseal(version)
    with pytest.raises(CorruptArtifactError):
        Recommender.load(version)
    with pytest.raises(CorruptArtifactError):
        Recommender.load(version, mmap=True)
