"""Purge articles from everything a site keeps on disk: :func:`purge_model`.

How it works
------------
A legal takedown must reach every copy of an article, not only the model a process serves.
:func:`purge_model` holds the update log's write lock for the whole run (no worker logs an
update meanwhile) and then, in this order:

1. **the current model**: loads it, replays the log entries it has not absorbed, purges the
   articles from that state (:mod:`recommender._erase`) and publishes the result as a new
   version; ``current`` switches atomically, so workers move to it at their next check;
2. **retained versions** (kept for workers that have not switched yet, and for rollback): each
   one that holds a trace is purged the same way, published beside it under the same
   publishing time (so the retention rule treats it as before), and the old directory is
   deleted; leftovers of killed writers (``versions/.tmp-*``) are deleted too;
3. **the update log**: records naming a purged id are dropped from their entries (an entry
   left empty is deleted), their bytes overwritten with zeros, and the log checkpointed so
   the write-ahead file keeps no copy; positions are not reused, so compaction and the
   workers' positions stay valid;
4. **precomputed lists** (SQLite or JSONL files from ``recommender precompute``): rows whose
   article or item is purged are deleted, the remaining items of a list move up a rank, and
   the file is replaced atomically (the SQLite file is vacuumed first).

A worker that still serves a version published before the purge keeps answering from it until
its next look at ``current`` (``check_interval``, 1 s by default), then switches. Its mapped
files stay readable until then (POSIX keeps a deleted file's pages for the mappings that hold
them) but are gone from the directory; a worker opening a version that was just deleted starts
again from ``current`` (:func:`recommender._store.read`).

Each step is idempotent, so a purge stopped half-way is finished by running it again. Nothing
is modified until every id has been found somewhere (:class:`UnknownArticleError` otherwise).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from . import _store as store
from ._checks import check_exclude
from ._entries import named_ids, redacted, replay
from ._erase import purged, traces, with_aliases_of
from ._model import Recommender
from ._precompute import _exclusive, _fsync_replace, _target, earlier_output
from ._updates import LOG_NAME, UpdateLog
from .exceptions import ArtifactError, UnknownArticleError

__all__ = ["purge_model"]

logger = logging.getLogger(__name__)

SCRATCH_PREFIX = ".purge-"
"""Model-directory entries a purge writes rewritten versions into before moving them in place."""
_SQLITE_MAGIC = b"SQLite format 3\x00"
_KEEP_EVERY_VERSION = 1 << 30  # a purge publishes without pruning: retention stays the next save's job


def purge_model(path: str | os.PathLike, article_ids: Iterable[str], *,
                precomputed: Iterable[str | os.PathLike] = ()) -> dict[str, Any]:
    """Remove articles and every trace of them from a model directory and its outputs.

    Parameters
    ----------
    path : path-like
        A model directory written by :meth:`Recommender.save` (with its ``updates.sqlite``,
        if the site shares live updates).
    article_ids : collection of str
    precomputed : paths, optional
        SQLite or JSONL files written by ``recommender precompute`` from this model.

    Returns
    -------
    dict
        What was touched: ``ids``; ``aliases`` (of those ids, purged with them); ``model`` (the new current version and
        :meth:`Recommender.purge_articles` counts, or ``None`` if it held no trace);
        ``versions`` (retained versions rewritten, staging leftovers deleted); ``log``
        (entries rewritten, entries deleted, records dropped, whether the checkpoint
        completed); ``precomputed`` (rows deleted per file).

    Raises
    ------
    UnknownArticleError
        An id found nowhere (not in any version, the log or the precomputed files); nothing
        is changed then.
    """
    ids = check_exclude(article_ids, "article_ids")
    gone = set(ids)
    root = Path(store.check_path(path))
    store.resolve(root)  # a clear error for a path that is not a model
    outputs = [_target(store.check_path(output, "precomputed"), earlier_output) for output in precomputed]
    log = UpdateLog(root / LOG_NAME) if (root / LOG_NAME).exists() else None
    try:
        with (log.writing() if log is not None else nullcontext()) as writer:
            entries = writer.entries_after(0) if writer is not None else []
            model = Recommender.load(root)
            loaded = model._fitted()
            state = replay(loaded, entries, model._reaction_policy())
            requested, gone = gone, with_aliases_of(state, gone)  # a story's aliases go with it
            found = traces(state, requested)
            older = _versions(root)  # the current one too: once the purged one is published, it is retained
            retained = [(version, Recommender.load(version, mmap=True)) for version in older]
            for _, old in retained:
                found |= traces(old._fitted(), requested)
                gone |= with_aliases_of(old._fitted(), requested)
            for _, kind, payload in entries:
                found |= requested & named_ids(kind, payload)
            counted = {output: _count(output, gone) for output in outputs}
            found |= {article_id for hits in counted.values() for article_id in hits}
            missing = sorted(requested - found)
            if missing:
                raise UnknownArticleError(missing[0], "found nowhere: in no version of the model, not in its update "
                                                      "log nor in the precomputed files named (purged already?)")
            report: dict[str, Any] = {"ids": sorted(requested), "aliases": sorted(gone - requested), "model": None}
            if traces(state, gone) or traces(loaded, gone):
                state, counts = purged(state, gone)
                model._adopt(state)
                model.save(root, keep=_KEEP_EVERY_VERSION)
                report["model"] = {"version": model.version, **counts.to_dict()}
            report["versions"] = _purge_versions(root, retained, gone)
            report["log"] = _redact_log(writer, entries, gone)
        if log is not None:
            report["log"]["checkpointed"] = log.checkpoint()
    finally:
        if log is not None:
            log.close()
    report["precomputed"] = {str(output): _redact_output(output, gone) if hits else 0
                             for output, hits in counted.items()}
    return report


def _versions(root: Path) -> list[Path]:
    """The finished version directories, oldest first."""
    folder = root / store.VERSIONS
    if not folder.is_dir():
        return []
    return sorted((entry for entry in folder.iterdir() if not entry.name.startswith(".")), key=lambda e: e.name)


def _purge_versions(root: Path, retained: list[tuple[Path, Recommender]], gone: set[str]) -> dict[str, int]:
    """Rewrite the retained versions that hold a trace; delete staging leftovers."""
    rewritten = 0
    for version, model in retained:
        if version.name == store.current_version(root):
            continue  # only when the current version holds no trace: it stays as it is
        state = model._fitted()
        if not traces(state, gone):
            continue
        model._adopt(purged(state, gone)[0])
        scratch = root / f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"
        try:
            model.save(scratch)
            # same publishing time, new name: retention and ordering treat it as the version it replaces
            target = version.with_name(f"{version.name.split('-', 1)[0]}-{secrets.token_hex(3)}")
            os.rename(store.resolve(scratch), target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(version)
        rewritten += 1
    leftovers = [*(root / store.VERSIONS).glob(f"{store.STAGING_PREFIX}*"), *root.glob(f"{SCRATCH_PREFIX}*")]
    for entry in leftovers:
        shutil.rmtree(entry, ignore_errors=True)
    return {"rewritten": rewritten, "leftovers_deleted": len(leftovers)}


def _redact_log(writer: Any, entries: list, gone: set[str]) -> dict[str, Any]:
    report = {"entries_rewritten": 0, "entries_deleted": 0, "records_dropped": 0}
    for position, kind, payload in entries:
        kept, dropped = redacted(kind, payload, gone)
        if dropped:
            writer.rewrite(position, kept)
            report["entries_deleted" if kept is None else "entries_rewritten"] += 1
            report["records_dropped"] += dropped
    return report


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def _count(path: Path, gone: set[str]) -> set[str]:
    """The purged ids a precomputed file names (as a list's article or as an item)."""
    if not path.exists():
        raise ArtifactError(f"{path}: no such precomputed file")
    if _is_sqlite(path):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = set()
            for article_id in gone:
                if conn.execute("SELECT 1 FROM lists WHERE article_id = ? OR item_id = ? LIMIT 1",
                                (article_id, article_id)).fetchone():
                    found.add(article_id)
            return found
        except sqlite3.Error as error:
            raise ArtifactError(f"{path}: not a precomputed lists file ({error})") from None
        finally:
            conn.close()
    found = set()
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
                found |= gone & ({record["article_id"]} | {item["id"] for item in record["items"]})
            except (ValueError, KeyError, TypeError):
                raise ArtifactError(f"{path}:{number}: not a line of precomputed lists") from None
    return found


def _redact_output(path: Path, gone: set[str]) -> int:
    """Delete a precomputed file's rows naming ``gone``; replace the file atomically."""
    partial = path.with_name(path.name + ".purge")
    with _exclusive(path):
        deleted = (_redact_sqlite if _is_sqlite(path) else _redact_jsonl)(path, partial, gone)
        _fsync_replace(partial, path)
    return deleted


def _redact_sqlite(path: Path, partial: Path, gone: set[str]) -> int:
    partial.unlink(missing_ok=True)
    source, copy = sqlite3.connect(path), sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        source.close()
    try:
        copy.execute("PRAGMA secure_delete = ON")
        copy.execute("CREATE TEMP TABLE purged (id TEXT PRIMARY KEY)")
        copy.executemany("INSERT OR IGNORE INTO purged VALUES (?)", [(article_id,) for article_id in gone])
        shortened = copy.execute("SELECT DISTINCT list, article_id FROM lists WHERE item_id IN purged "
                                 "AND article_id NOT IN purged").fetchall()
        deleted = copy.execute("DELETE FROM lists WHERE article_id IN purged OR item_id IN purged").rowcount
        for name, article_id in shortened:  # the items below a purged one move up a rank
            rows = copy.execute("SELECT rowid FROM lists WHERE list = ? AND article_id = ? ORDER BY rank",
                                (name, article_id)).fetchall()
            copy.executemany("UPDATE lists SET rank = ? WHERE rowid = ?",
                             [(rank, rowid) for rank, (rowid,) in enumerate(rows, start=1)])
        copy.commit()
        copy.execute("VACUUM")  # rebuilds every page: no freed page keeps a deleted row
    finally:
        copy.close()
    return deleted


def _redact_jsonl(path: Path, partial: Path, gone: set[str]) -> int:
    deleted = 0
    with open(path, encoding="utf-8") as lines, open(partial, "w", encoding="utf-8") as out:
        for line in lines:
            record = json.loads(line)
            if record["article_id"] in gone:
                deleted += len(record["items"])
                continue
            items = [item for item in record["items"] if item["id"] not in gone]
            deleted += len(record["items"]) - len(items)
            out.write(json.dumps({**record, "items": items}) + "\n")
    return deleted
