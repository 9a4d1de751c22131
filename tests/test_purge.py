"""Purge on disk, end to end: published and retained versions, the shared update log and the
precomputed lists lose every trace of a purged article, and a reload shows none."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from recommender import ModelHandle, Recommender, UnknownArticleError
from recommender import _store as store
from recommender._entries import replay
from recommender._precompute import precompute
from recommender.purge import purge_model
from recommender._updates import LOG_NAME, UpdateLog
from recommender.cli import main
from recommender.datasets import SAMPLE_NOW

SECRET = "Quelmorrow"
LATE_SECRET = "Vantressa"


def _article(article_id: str, name: str, day: int = 27) -> dict:
    if name == SECRET:
        title, body = (f"{name} sues the Calden harbour board",
                       f"{name} filed papers against the Calden harbour board over the dock strike "
                       "and shipping delays.")
    else:
        title, body = (f"{name} wins the Aldermere festival prize",
                       f"The Aldermere film festival gave its prize to {name} for The Salt Orchard screening.")
    return {"id": article_id, "title": title, "body": body, "published_at": f"2026-11-{day:02d}T09:00:00+00:00",
            "section": "business"}


def _reactions(article_id: str, n: int, minutes: int = 0) -> list[dict]:
    return [{"article_id": article_id, "reaction": "good",
             "at": (SAMPLE_NOW - timedelta(minutes=minutes + i)).isoformat()} for i in range(n)]


def _bytes_under(*roots) -> bytes:
    files = [path for root in roots for path in ([root] if root.is_file() else root.rglob("*"))]
    return b"".join(path.read_bytes() for path in files if path.is_file())


def _no_trace(blob: bytes) -> bool:
    needles = [b"takedown-1", b"takedown-2", SECRET.encode(), SECRET.lower().encode(), LATE_SECRET.encode(),
               LATE_SECRET.lower().encode()]
    return not [needle for needle in needles if needle in blob]


def _ids_shown(model: Recommender) -> set[str]:
    seen = {hit.article_id for hit in model.ranking(k=50, now=SAMPLE_NOW)}
    for article_id in model.article_ids:
        page = model.page(article_id, now=SAMPLE_NOW)
        seen |= {hit.article_id for hits in (page.related, page.ranking, page.recommendation) for hit in hits}
    return seen


@pytest.fixture()
def site(sample_articles, tmp_path):
    """A model with three published versions, a shared log and precomputed lists, all naming
    ``takedown-1`` (published) and ``takedown-2`` (added through the log only)."""
    path = tmp_path / "model"
    model = Recommender().fit([*sample_articles, _article("takedown-1", SECRET)], now=SAMPLE_NOW)
    model.record_reactions(_reactions("takedown-1", 30, minutes=600), now=SAMPLE_NOW)
    model.save(path)  # version 1: holds takedown-1
    handle = ModelHandle(path, updates=True, check_interval=0)
    handle.record_reactions(_reactions("takedown-1", 20) + _reactions(sample_articles[0].id, 2), now=SAMPLE_NOW)
    handle.model.save(path)  # version 2: absorbed the log so far
    handle.add_articles([_article("takedown-2", LATE_SECRET, day=28)])
    handle.record_reactions(_reactions("takedown-2", 5) + _reactions("takedown-1", 1), now=SAMPLE_NOW)
    handle.remove_articles(["takedown-1"])
    handle.add_articles([_article("takedown-1", SECRET, day=28)])  # republished: two rows
    out, jsonl = tmp_path / "lists.sqlite", tmp_path / "lists.jsonl"
    precompute(path, out, pages=True, now=SAMPLE_NOW, jsonl=jsonl, jsonl_fields=True)
    return path, handle, out, jsonl


def test_a_purge_reaches_every_copy_and_a_reload_shows_none(site, tmp_path, capsys):
    path, handle, out, jsonl = site
    assert {"takedown-1", "takedown-2"} <= _ids_shown(handle.model)
    assert not _no_trace(_bytes_under(path, out, jsonl))
    versions_before = sorted(p.name for p in (path / store.VERSIONS).iterdir())
    serving = handle.model  # a request in flight on the old version, its arrays mapped

    status = main(["purge", "--model", str(path), "--precomputed", str(out), "--precomputed", str(jsonl),
                   "--json", "takedown-1", "takedown-2"])
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"]["rows"] == 3  # takedown-1 twice (unpublished and republished), takedown-2 once
    assert report["model"]["terms"] >= 2
    assert report["versions"]["rewritten"] == 2
    assert report["log"]["records_dropped"] >= 5 and report["log"]["checkpointed"]
    assert all(rows > 0 for rows in report["precomputed"].values())

    # no byte of the ids or the names anywhere: versions, log (and its WAL), outputs
    assert _no_trace(_bytes_under(path, out, jsonl))
    versions_after = sorted(p.name for p in (path / store.VERSIONS).iterdir())
    assert len(versions_after) == len(versions_before) + 1
    # retained versions keep their publishing time (the retention rule sees them as before)
    assert sorted(v.split("-")[0] for v in versions_before) == sorted(v.split("-")[0] for v in versions_after[:-1])

    # the request in flight finishes on its version, whose files are gone from the directory
    assert not (path / store.VERSIONS / serving.version).exists()
    assert [h.article_id for h in serving.related("a001")] and serving.article_metadata("takedown-1")
    # a reload, a fresh worker, a worker that was serving, and every retained version: no trace
    assert handle.refresh() and handle.model.version == store.current_version(path)
    fresh = ModelHandle(path, updates=True)
    for model in (Recommender.load(path), fresh.model, handle.model):
        assert not {"takedown-1", "takedown-2"} & (_ids_shown(model) | set(model.catalog_.ids()))
    log = UpdateLog(path / LOG_NAME)
    try:
        for version in (path / store.VERSIONS).iterdir():
            old = Recommender.load(version)  # rebuilt from a retained version and the log
            state = replay(old._fitted(), log.entries_after(old.log_position_), old._reaction_policy())
            assert not {"takedown-1", "takedown-2"} & set(state.catalog.ids())
            assert not [r for r in state.pending if r.article_id.startswith("takedown")]
    finally:
        log.close()
    assert handle.compact() >= 0  # compaction still reads every version

    # precomputed lists: the remaining items moved up; ranks stay 1..n
    conn = sqlite3.connect(out)
    ranks = conn.execute("SELECT list, article_id, group_concat(rank) FROM lists GROUP BY list, article_id").fetchall()
    conn.close()
    for _, _, listed in ranks:
        assert sorted(map(int, listed.split(","))) == list(range(1, len(listed.split(",")) + 1))
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert lines and all(item["title"] for line in lines for item in line["items"])

    # the live worker keeps working; late reactions to the purged ids are not logged; purging again finds nothing
    handle.record_reactions(_reactions(handle.model.article_ids[0], 1) + _reactions("takedown-1", 2), now=SAMPLE_NOW)
    fresh.record_reactions(_reactions("takedown-2", 2), now=SAMPLE_NOW)
    assert _no_trace(_bytes_under(path)) and not handle.model._fitted().pending
    assert main(["purge", "--model", str(path), "takedown-1"]) == 1
    assert "takedown-1" in capsys.readouterr().err


def test_an_id_found_nowhere_changes_nothing(site):
    path, _, out, _ = site
    versions = sorted(p.name for p in (path / store.VERSIONS).iterdir())
    with pytest.raises(UnknownArticleError):
        purge_model(path, ["takedown-1", "no-such-article"], precomputed=[out])
    assert sorted(p.name for p in (path / store.VERSIONS).iterdir()) == versions
    assert b"takedown-1" in out.read_bytes()


def test_a_model_without_a_log_or_outputs(sample_articles, tmp_path):
    path = tmp_path / "model"
    model = Recommender().fit([*sample_articles, _article("takedown-1", SECRET)], now=SAMPLE_NOW)
    model.save(path)
    report = purge_model(path, ["takedown-1"])
    assert report["model"]["rows"] == 1 and report["versions"]["rewritten"] == 1
    assert report["log"] == {"entries_rewritten": 0, "entries_deleted": 0, "records_dropped": 0}
    assert not (path / LOG_NAME).exists()
    assert _no_trace(_bytes_under(path))
    assert "takedown-1" not in Recommender.load(path).catalog_.ids()


def test_a_purged_story_takes_its_aliases_out_of_the_log_too(sample_articles, tmp_path):
    path = tmp_path / "model"
    Recommender().fit([*sample_articles, _article("takedown-1", SECRET)], now=SAMPLE_NOW).save(path)
    handle = ModelHandle(path, updates=True)
    copy = {**_article("takedown-2", SECRET), "section": "local"}  # the same story under a second id
    handle.add_articles([copy])
    handle.add_aliases({"takedown-2": "takedown-1"})
    handle.record_reactions(_reactions("takedown-2", 3), now=SAMPLE_NOW)
    report = purge_model(path, ["takedown-1"])
    assert report["aliases"] == ["takedown-2"] and report["model"]["rows"] == 2
    assert report["log"]["entries_deleted"] == 3  # the copy, the alias, the reactions (logged under the alias id)
    assert _no_trace(_bytes_under(path))
    assert ModelHandle(path, updates=True).model.aliases_ == {}
