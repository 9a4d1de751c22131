"""Hot reload: a loaded model knows its version; a ModelHandle switches to newly published
versions while requests in flight finish on theirs; the retention rule of publish."""

from __future__ import annotations

import threading
import time

import pytest

from recommender import InvalidOptionError, ModelHandle, Recommender
from recommender import _store as store
from recommender._related.search import _kernel_verdicts as kernel_verdicts
from recommender.datasets import SAMPLE_NOW


@pytest.fixture()
def published(sample_model, tmp_path):
    path = tmp_path / "model"
    sample_model.save(path)
    return path


def _with_article(path, article_id: str) -> Recommender:
    model = Recommender.load(path)
    model.add_articles([{"id": article_id, "title": "Aldermere festival adds a night screening",
                         "body": "The Aldermere film festival adds a late screening of the Salt Orchard.",
                         "published_at": "2026-11-28T12:00:00+00:00", "section": "entertainment"}])
    return model


def test_a_loaded_model_knows_its_version(published, tiny_articles, tmp_path):
    loaded = Recommender.load(published)
    assert loaded.version == store.current_version(published) == store.resolve(published).name
    assert Recommender.load(store.resolve(published)).version == loaded.version
    fitted = Recommender().fit(tiny_articles)
    assert fitted.version is None  # fitted, never saved
    fitted.save(tmp_path / "tiny")
    assert fitted.version == store.current_version(tmp_path / "tiny")


def test_the_handle_switches_to_a_new_version(published):
    handle = ModelHandle(published, check_interval=0)
    first = handle.version
    assert "extra-1" not in handle.model.article_ids
    _with_article(published, "extra-1").save(published)
    assert handle.model.version != first and handle.version == store.current_version(published)
    assert "extra-1" in handle.model.article_ids
    assert handle.refresh() is False  # nothing newer


def test_a_version_is_ready_to_search_before_it_serves(published):
    """What the first Related search would build on its way is built when a version loads."""
    handle = ModelHandle(published, check_interval=0)
    for _ in range(2):  # the first version, then a newly published one
        profiles = handle.model._fitted().profiles
        assert profiles._core_stats is not None and profiles._core_postings is not None
        assert profiles in kernel_verdicts
        _with_article(published, f"extra-{len(handle.model.article_ids)}").save(published)
        handle.refresh()


def test_checks_are_rate_limited(published):
    handle = ModelHandle(published, check_interval=3600)
    first = handle.version
    _with_article(published, "extra-1").save(published)
    assert handle.model.version == first  # not looked at again within the interval
    assert handle.refresh() is True and handle.model.version != first


def test_a_query_in_flight_finishes_on_its_version(published):
    handle = ModelHandle(published, check_interval=0)
    model = handle.model  # what a request took when it started
    article = model.article_ids[0]
    expected = model.page(article, now=SAMPLE_NOW)
    started, results, errors = threading.Event(), [], []

    def request():
        try:
            started.set()
            for _ in range(30):
                results.append(model.page(article, now=SAMPLE_NOW))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=request)
    thread.start()
    started.wait()
    old_version = store.resolve(published)
    for number in range(3):  # publish, switch, and prune the version the request is using
        _with_article(published, f"extra-{number}").save(published, keep=0, retain_seconds=0)
        assert handle.model.version == store.current_version(published)
    thread.join()
    assert not errors, errors
    assert not old_version.exists()
    assert results and all(result == expected for result in results)
    assert model.page(article, now=SAMPLE_NOW) == expected  # mapped arrays outlive their files
    assert "extra-2" in handle.model.article_ids


def test_a_version_that_does_not_load_is_skipped(published, caplog):
    handle = ModelHandle(published, check_interval=0)
    first = handle.version
    broken = _with_article(published, "extra-1")
    broken.save(published)
    manifest = store.resolve(published) / "manifest.json"
    manifest.write_text("{broken", encoding="utf-8")
    assert handle.model.version == first
    assert "does not load" in caplog.text
    broken.save(published)  # the next good version is taken
    assert handle.model.version == store.current_version(published) != first


def test_check_interval_is_validated(published):
    with pytest.raises(InvalidOptionError):
        ModelHandle(published, check_interval=-1)


def test_retention_keeps_recent_versions_and_the_current_one(sample_model, tmp_path):
    path = tmp_path / "model"
    for _ in range(4):
        sample_model.save(path, keep=1)  # default retain_seconds: every version is young
    names = sorted(p.name for p in (path / "versions").iterdir())
    assert len(names) == 4
    current = store.current_version(path)
    # an hour later, the next publish's housekeeping keeps the current version and the `keep` newest
    store._prune(path, new=current, keep=1, retain_seconds=store.RETAIN_SECONDS, stale_after=store.STALE_AFTER,
                 now=time.time() + 3600)
    assert sorted(p.name for p in (path / "versions").iterdir()) == names[-2:]
    assert current == names[-1]
    # versions younger than retain_seconds stay whatever keep says
    for _ in range(2):
        sample_model.save(path, keep=0)
    assert len(list((path / "versions").iterdir())) == 4
    sample_model.save(path, keep=0, retain_seconds=0)
    assert [p.name for p in (path / "versions").iterdir()] == [store.current_version(path)]
