"""Live updates shared by every worker: the SQLite update log beside the model, folded by
every ModelHandle opened with updates=True."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from recommender import DuplicateArticleError, InvalidInputError, InvalidOptionError, ModelHandle, Recommender
from recommender import UnknownArticleError
from recommender._updates import LOG_NAME, UpdateLog
from recommender.datasets import SAMPLE_NOW

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 60  # bound on any wait for another process (not a speed check)
NEW = {"id": "late-1", "title": "Aldermere festival adds a night screening of The Salt Orchard",
       "body": "The Aldermere film festival adds a late night screening of The Salt Orchard by Castellanos.",
       "published_at": "2026-11-28T20:00:00+00:00", "section": "entertainment"}
REACTIONS = [{"article_id": "late-1", "reaction": "good", "at": "2026-11-28T21:00:00+00:00"},
             {"article_id": "a005", "reaction": "good", "count": 40, "at": "2026-11-28T22:00:00+00:00"}]


@pytest.fixture()
def path(sample_model, tmp_path):
    sample_model.save(tmp_path / "model")
    return tmp_path / "model"


def direct(path: Path) -> Recommender:
    """The published model given the same updates directly, without a log."""
    model = Recommender.load(path)
    model.add_articles([NEW])
    model.record_reactions(REACTIONS, now=SAMPLE_NOW)
    model.remove_articles(["a003"])
    return model


def post(handle: ModelHandle) -> None:
    handle.add_articles([NEW])
    handle.record_reactions(REACTIONS, now=SAMPLE_NOW)
    handle.remove_articles(["a003"])


def signature(model: Recommender) -> dict:
    return {"page": model.page("late-1", history=["a005"], now=SAMPLE_NOW).to_dict(),
            "ranking": [hit.to_dict() for hit in model.ranking(now=SAMPLE_NOW)],
            "trending": [hit.to_dict() for hit in model.ranking(now=SAMPLE_NOW, mode="trending")],
            "ids": model.article_ids}


def test_a_folded_log_answers_as_the_directly_updated_model(path):
    writer = ModelHandle(path, updates=True)
    reader = ModelHandle(path, updates=True, staleness=0)
    before = reader.model.article_ids
    post(writer)
    assert writer.log_position == 3
    assert signature(writer.model) == signature(direct(path))
    assert reader.model.log_position_ == 3 and reader.model.article_ids != before
    assert signature(reader.model) == signature(direct(path))
    assert signature(ModelHandle(path, updates=True).model) == signature(direct(path))  # a process started later


def test_an_update_that_cannot_apply_never_reaches_the_log(path):
    handle = ModelHandle(path, updates=True)
    handle.add_articles([NEW])
    with pytest.raises(DuplicateArticleError):
        handle.add_articles([NEW])
    with pytest.raises(UnknownArticleError):
        handle.remove_articles(["no-such-article"])
    with pytest.raises(InvalidInputError, match="future"):
        handle.record_reactions(REACTIONS, now=SAMPLE_NOW - timedelta(days=1))
    assert UpdateLog(path / LOG_NAME).last_position() == 1 == handle.log_position


def test_an_empty_update_logs_nothing(path):
    handle = ModelHandle(path, updates=True)
    handle.add_articles([NEW])
    for write in (handle.add_articles, handle.remove_articles, handle.add_aliases,
                  lambda empty: handle.record_reactions(empty, now=SAMPLE_NOW)):
        assert write([] if write is not handle.add_aliases else {}) == 1
    assert UpdateLog(path / LOG_NAME).last_position() == 1 == handle.log_position
    model = Recommender.load(path)
    state = model._fitted()
    assert model.add_articles([])._fitted() is state  # the transition itself: the same state


def test_a_published_version_records_the_position_it_absorbed(path):
    handle = ModelHandle(path, updates=True, check_interval=0)
    post(handle)
    handle.model.save(path, keep=0, retain_seconds=0)
    assert Recommender.load(path).log_position_ == 3
    handle.record_reactions([{"article_id": "a005", "reaction": "sad", "at": "2026-11-28T22:30:00+00:00"}],
                            now=SAMPLE_NOW)
    assert handle.compact() == 3  # every version on disk absorbed entries 1-3
    later = ModelHandle(path, updates=True)  # loads the version (position 3), replays entry 4
    assert later.log_position == 4 and signature(later.model) == signature(handle.model)


def test_write_methods_need_the_log(path):
    with pytest.raises(InvalidOptionError, match="updates=True"):
        ModelHandle(path).add_articles([NEW])


CHILD = """
import json, sys, time
from recommender import ModelHandle
from recommender.datasets import SAMPLE_NOW
handle = ModelHandle(sys.argv[1], updates=True)
print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[2])
while handle.model.log_position_ < 3 and time.monotonic() < deadline:
    time.sleep(0.05)
model = handle.model
print(json.dumps({"waited": time.monotonic() - deadline + float(sys.argv[2]),
                  "page": model.page("late-1", history=["a005"], now=SAMPLE_NOW).to_dict(),
                  "ranking": [hit.to_dict() for hit in model.ranking(now=SAMPLE_NOW)],
                  "trending": [hit.to_dict() for hit in model.ranking(now=SAMPLE_NOW, mode="trending")],
                  "ids": model.article_ids}), flush=True)
"""


def _child(*arguments: str, script: str = CHILD) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", script, *arguments], stdout=subprocess.PIPE, text=True, env=env)


def test_updates_posted_to_one_process_reach_another(path):
    child = _child(str(path), str(WAIT_SECONDS))
    try:
        assert child.stdout.readline().strip() == "ready"
        post(ModelHandle(path, updates=True))
        seen = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait(WAIT_SECONDS)
    assert seen["waited"] < WAIT_SECONDS  # it saw the updates (default staleness: about a second)
    expected = signature(direct(path))
    assert {key: seen[key] for key in expected} == json.loads(json.dumps(expected))


WRITER = """
import sys
from recommender import ModelHandle
from recommender.datasets import SAMPLE_NOW
handle = ModelHandle(sys.argv[1], updates=True)
for number in range(100000):
    batch = [{"article_id": "a%03d" % (1 + number % 79), "reaction": "good", "at": "2026-11-28T22:00:00+00:00"}] * 50
    print(handle.record_reactions(batch, now=SAMPLE_NOW), flush=True)
"""


def test_a_killed_writer_loses_at_most_its_uncommitted_batch(path):
    child = _child(str(path), script=WRITER)
    try:
        confirmed = [int(child.stdout.readline()) for _ in range(20)]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(WAIT_SECONDS)
    log = UpdateLog(path / LOG_NAME)
    last = log.last_position()
    assert confirmed == list(range(1, 21)) and last >= confirmed[-1]
    assert [position for position, _, _ in log.entries_after(0)] == list(range(1, last + 1))
    folded = ModelHandle(path, updates=True)  # the log stays readable and whole
    assert folded.log_position == last
    replayed = Recommender.load(path)
    for position, _, payload in log.entries_after(0):
        replayed.record_reactions([dict(zip(("article_id", "reaction", "count", "at"), r)) for r in payload["reactions"]],
                                  now=SAMPLE_NOW)
    assert signature_popularity(folded.model) == signature_popularity(replayed)


def signature_popularity(model: Recommender) -> list:
    return [hit.to_dict() for hit in model.ranking(k=20, now=SAMPLE_NOW)]


def _open_log(path, barrier, errors) -> None:
    barrier.wait()
    try:
        UpdateLog(path)
    except Exception as error:  # noqa: BLE001 - reported to the test
        errors.put(repr(error))


def test_workers_opening_a_new_log_at_once_all_open_it(tmp_path):
    """The workers of one server open the same new log at the same moment: SQLite answers one
    of them "locked" at once while another converts the file to WAL; none may fail."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork to start the openers at one moment")
    context = multiprocessing.get_context("fork")
    failures = []
    for attempt in range(12):
        barrier, errors = context.Barrier(6), context.Queue()
        openers = [context.Process(target=_open_log, args=(tmp_path / f"log{attempt}.sqlite", barrier, errors))
                   for _ in range(6)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(WAIT_SECONDS)
        while not errors.empty():
            failures.append(errors.get())
    assert failures == []
