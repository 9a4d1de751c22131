"""Saving and loading: safe format, checksums, atomic publish, identical lists after a round trip."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from recommender import CorruptArtifactError, IncompatibleArtifactError, Recommender
from recommender import _store as store
from .conftest import as_records_format


@pytest.fixture()
def model(tiny_articles):
    return Recommender(title_weight=3.0).fit(tiny_articles)


def all_lists(rec):
    return {article_id: rec.related(article_id, k=5) for article_id in rec.article_ids}


@pytest.mark.parametrize("mmap", [False, True])
def test_round_trip_gives_identical_lists(model, tmp_path, mmap):
    model.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m", mmap=mmap)
    assert loaded.get_params() == model.get_params()
    assert all_lists(loaded) == all_lists(model)
    assert loaded.related_to_text("Calden", "dock strike") == model.related_to_text("Calden", "dock strike")
    if mmap:
        # read-only views of the mapped files, not private copies
        for array in (loaded.index_.vectors.data, loaded.index_.postings.indices):
            assert not array.flags.writeable and not array.flags.owndata


def test_loaded_model_accepts_new_articles(model, tmp_path, tiny_articles):
    model.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m", mmap=True)
    loaded.add_articles([dict(tiny_articles[0], id="port-1-again", title="Harbour pilots join strike",
                              body="Calden dock strike news from the harbour today.")])
    assert "port-1-again" in [h.article_id for h in loaded.related("port-3")]


def test_layout_is_plain_files_with_checksums(model, tmp_path):
    model.save(tmp_path / "m")
    version = store.resolve(tmp_path / "m")
    assert os.path.islink(tmp_path / "m" / "current")
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["counts"]["articles"] == len(model.article_ids)
    names = sorted(p.name for p in version.iterdir())
    assert names == sorted([*manifest["files"], "manifest.json"])
    assert all(name.endswith((".npy", ".json")) for name in names)
    for name in names:
        if name.endswith(".npy"):
            np.load(version / name, allow_pickle=False)  # no object arrays anywhere


def test_saving_again_publishes_a_new_version_and_prunes_old_ones(model, tmp_path):
    for _ in range(5):
        model.save(tmp_path / "m", retain_seconds=0)
    versions = [p for p in (tmp_path / "m" / "versions").iterdir()]
    assert len(versions) == 3  # current + 2 kept for readers still using them
    assert store.resolve(tmp_path / "m") in [v.resolve() for v in versions]
    assert not [p for p in (tmp_path / "m" / "versions").iterdir() if p.name.startswith(".tmp")]


def _version(tmp_path, model):
    model.save(tmp_path / "m")
    return store.resolve(tmp_path / "m")


def test_altered_file_is_reported_by_name(model, tmp_path):
    version = _version(tmp_path, model)
    target = version / "vectors_data.npy"
    raw = bytearray(target.read_bytes())
    raw[-1] ^= 0xFF
    target.write_bytes(bytes(raw))
    with pytest.raises(CorruptArtifactError, match="vectors_data.npy.*checksum"):
        Recommender.load(tmp_path / "m")


def test_truncated_and_missing_files(model, tmp_path):
    version = _version(tmp_path, model)
    (version / "idf.npy").write_bytes((version / "idf.npy").read_bytes()[:20])
    with pytest.raises(CorruptArtifactError, match="idf.npy"):
        Recommender.load(tmp_path / "m")
    with pytest.raises(CorruptArtifactError, match="idf.npy"):
        Recommender.load(tmp_path / "m", verify=False)
    version = _version(tmp_path, model)
    (version / "terms.json").unlink()
    with pytest.raises(CorruptArtifactError, match="terms.json.*missing"):
        Recommender.load(tmp_path / "m")


def test_unknown_format_version(model, tmp_path):
    version = _version(tmp_path, model)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["format_version"] = 999
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IncompatibleArtifactError, match="999"):
        Recommender.load(tmp_path / "m")


def test_manifest_paths_cannot_escape_the_model(model, tmp_path):
    version = _version(tmp_path, model)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["files"]["../../outside.npy"] = {"sha256": "0", "bytes": 1}
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptArtifactError, match="plain name"):
        Recommender.load(tmp_path / "m")


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch EXPLOITED",))


def test_a_planted_pickle_is_never_executed(model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    version = _version(tmp_path, model)
    target = version / "idf.npy"
    np.save(target, np.array([_Exploit()], dtype=object), allow_pickle=True)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["files"]["idf.npy"] = {"sha256": store._sha256(target), "bytes": target.stat().st_size}
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptArtifactError, match="idf.npy"):
        Recommender.load(tmp_path / "m")
    assert not (tmp_path / "EXPLOITED").exists()
    (version / "evil.pkl").write_bytes(pickle.dumps(_Exploit()))
    assert not (tmp_path / "EXPLOITED").exists()


def test_inconsistent_arrays_with_valid_checksums_are_rejected(model, tmp_path):
    version = _version(tmp_path, model)
    target = version / "vectors_indices.npy"
    indices = np.load(target)
    indices[0] = 10**6
    np.save(target, indices)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["files"]["vectors_indices.npy"] = {"sha256": store._sha256(target), "bytes": target.stat().st_size}
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptArtifactError, match="inconsistent"):
        Recommender.load(tmp_path / "m")


def test_not_a_model_directory(tmp_path):
    with pytest.raises(CorruptArtifactError, match="no such model"):
        Recommender.load(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorruptArtifactError, match="not a model directory"):
        Recommender.load(tmp_path / "empty")


def test_popularity_and_pending_reactions_survive_a_round_trip(tiny_articles, tmp_path):
    from datetime import datetime, timezone

    from recommender import Reaction

    now = datetime(2026, 10, 16, tzinfo=timezone.utc)
    rec = Recommender(reaction_weights={"good": 1, "sad": 0.5}, half_life_hours=12).fit(tiny_articles)
    rec.record_reactions([Reaction("port-3", "good", 5, now), Reaction("port-2", "sad", 3, now),
                          Reaction("not-yet", "good", 2, now)], now=now)
    rec.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m", mmap=True)
    assert loaded.get_params() == rec.get_params()
    assert loaded.ranking(now=now) == rec.ranking(now=now)
    assert loaded.ranking(now=now, mode="trending") == rec.ranking(now=now, mode="trending")
    loaded.add_articles([dict(tiny_articles[0], id="not-yet", body="harbour news", published_at="2026-10-15T00:00:00Z")])
    assert "not-yet" in [h.article_id for h in loaded.ranking(now=now)]


def test_a_version_1_model_loads_with_the_behaviour_of_its_time(tiny_articles, tmp_path):
    """Models saved before stemming and neighbour profiles (format version 1) keep working."""
    old = Recommender(stem=False, neighbours=0, proper_noun_weight=1).fit(tiny_articles)
    version = _version(tmp_path, old)
    as_records_format(version)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["format_version"] = 1
    for options in (manifest["config"], manifest["vectorizer"]):
        for name in ("stem", "neighbours", "n_jobs", "proper_noun_weight"):
            options.pop(name, None)
    manifest["counts"].pop("neighbours")
    manifest["files"].pop("display_terms.json")
    (version / "display_terms.json").unlink()
    (version / "manifest.json").write_text(json.dumps(manifest))
    loaded = Recommender.load(tmp_path / "m")
    assert (loaded.stem, loaded.neighbours, loaded.proper_noun_weight) == (False, 0, 1)
    assert loaded.profiles_ is None and loaded.vectorizer_.stem is False
    assert all_lists(loaded) == all_lists(old)
    assert store.FORMAT_VERSION == 3


@pytest.mark.parametrize("name, change, message", [
    ("profile_kth.npy", lambda a: a * 0.5, "m-th cosines"),
    ("profile_norms.npy", lambda a: a + 0.1, "norms"),
    ("profile_postings_data.npy", lambda a: a[::-1].copy(), "transpose"),
    ("profiles_data.npy", lambda a: -a, "outside"),
])
def test_inconsistent_profiles_with_valid_checksums_are_rejected(tiny_articles, tmp_path, name, change, message):
    """The batch path's score bounds trust the profiles: a loaded model checks them (verify=True)."""
    version = _version(tmp_path, Recommender(neighbours=3).fit(tiny_articles))
    target = version / name
    np.save(target, change(np.load(target)))
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["files"][name] = {"sha256": store._sha256(target), "bytes": target.stat().st_size}
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptArtifactError, match=message):
        Recommender.load(tmp_path / "m")
    Recommender.load(tmp_path / "m", verify=False)  # the caller's choice: no checks
