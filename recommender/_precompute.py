"""Precompute every article's lists into SQLite (and JSONL): parallel, resumable, atomic.

How it works
------------
:func:`precompute` cuts the archive into blocks (:func:`recommender._related.block_rows`) and
hands them to joblib workers — local processes, or a Dask cluster through joblib's
``dask`` backend. Each worker loads the model once, memory-mapped, from the model's
*version* directory (so a model published meanwhile does not change a run), and returns
the rows of its block. The parent writes each block in one SQLite transaction together
with its block number, into ``OUT.partial``:

* a killed run leaves ``OUT.partial`` with whole blocks only; running the same command again
  skips the finished blocks (the partial file remembers the model version and options and
  is discarded if they differ);
* when every block is written, an index on ``(list, article_id)`` is built, the file is
  flushed and renamed over ``OUT`` with :func:`os.replace`: readers see the old file or the
  new one, never a half-written one. The JSONL export is published the same way.

Only a run's own earlier outputs are ever replaced: a device, FIFO, directory or any other
file at the output path is refused and left as it is. Both outputs (``OUT`` and the JSON
lines) are claimed before any work: while a run writes ``OUT`` it holds ``OUT.lock``; a
second run on the same output stops at once. Write failures (a full or read-only disk) raise
:class:`~recommender.exceptions.ArtifactError` and leave the previous output in place. The
parent loads the model with every check (:mod:`recommender._artifact_checks`) and takes the
number of articles from its arrays; workers load the same version directory with
``verify=False``, whose structural checks still keep any file content from crashing them.

Table ``lists(list, article_id, rank, item_id, score)``: ``list`` is ``"related"`` or, with
``pages=True``, also ``"ranking"`` and ``"recommendation"`` (each article's page for an
anonymous reader at ``now``, with no story twice on a page). ``rank`` starts at 1.

Time and editorial rules: lists are computed at ``now`` (the current time unless given), as
the single calls compute them. Articles published after ``now`` (scheduled) get no lists and
appear in none; table ``meta`` records ``now`` and ``valid_until``, the earliest scheduled
publication (empty when nothing is scheduled): the output is exact until then, and a site
reruns precompute at that time (or serves the newly published article's lists live). The
model's editorial rules apply (blocks, pins, eligibility); with an update log beside the
model (``updates.sqlite``), the rules as of its last entry.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from . import _store as store
from ._rules import EditorialRules, changed_rules
from ._time import epoch_seconds
from ._updates import LOG_NAME, UpdateLog
from ._visibility import valid_until
from ._related import block_rows
from ._catalog import Catalog
from ._checks import check_k, check_now
from .exceptions import ArtifactError, InvalidOptionError, RecommenderError
from ._model import Recommender

__all__ = ["PrecomputeReport", "precompute", "rules_with_log"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (list TEXT NOT NULL, article_id TEXT NOT NULL, rank INTEGER NOT NULL,
                                  item_id TEXT NOT NULL, score REAL NOT NULL);
CREATE TABLE IF NOT EXISTS done_blocks (block INTEGER PRIMARY KEY);
"""


@dataclass(frozen=True, slots=True)
class PrecomputeReport:
    """What a :func:`precompute` run did."""

    articles: int
    blocks: int
    blocks_resumed: int
    rows_written: int
    out: Path
    jsonl: Path | None


@lru_cache(maxsize=2)
def _model(version_dir: str) -> Recommender:
    # verified once by the parent; workers share the mapped pages
    _keep_worker()
    return Recommender.load(version_dir, mmap=True, verify=False)


def _keep_worker() -> None:
    """Keep loky from taking the mapped model for a memory leak. Only loky's worker loop
    reads the setting, so in a process that is not a loky worker it changes nothing.

    With psutil installed, loky restarts a worker whose resident memory grew by more than
    300 MB since its first task. Pages of a memory-mapped model count as resident once read,
    and a worker's blocks read more of the archive as they go, so on a large model (a
    million articles) a worker could be restarted mid-run, mapping the model and building its
    caches anew. A block's own arrays are freed when it returns; the mapped pages belong to
    the page cache.
    """
    executor = sys.modules.get("joblib.externals.loky.process_executor")
    if executor is not None and hasattr(executor, "_MAX_MEMORY_LEAK_SIZE"):
        executor._MAX_MEMORY_LEAK_SIZE = sys.maxsize


def _block_task(version_dir: str, number: int, rows: np.ndarray, k: int, pages: bool, now: datetime,
                rules: dict):
    rec = _model(version_dir)
    if rec.rules.to_json() != rules:  # the rules of the update log, once per worker and rules
        rec.set_rules(rules)
    moment = epoch_seconds(now)
    catalog = rec.catalog_
    ids = [catalog.id(row) for row in rows if not catalog.removed[row] and catalog.published[row] <= moment]
    out: list[tuple[str, str, int, str, float]] = []
    if pages:
        for article_id in ids:
            page = rec.page(article_id, now=now)
            for name, hits in (("related", page.related), ("ranking", page.ranking),
                               ("recommendation", page.recommendation)):
                out.extend((name, article_id, rank, hit.article_id, hit.score) for rank, hit in enumerate(hits, 1))
    else:
        item_ids, scores = rec.related_batch(ids, k=k, block_size=max(len(ids), 1), now=now)
        for article_id, items, values in zip(ids, item_ids, scores):
            out.extend(("related", article_id, rank, item, float(score))
                       for rank, (item, score) in enumerate(zip(items, values), 1) if item)
    return number, out


def _connect(partial: Path) -> sqlite3.Connection:
    """The partial file in write-ahead-log mode: a commit appends to the log without waiting
    for the disk; a killed run keeps every committed block (a power cut may lose the last
    few, which a resumed run recomputes). The file is flushed once, when it is published."""
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _open_partial(partial: Path, fingerprint: dict) -> tuple[sqlite3.Connection, set[int]]:
    """The partial file of an earlier run of the same job and its finished blocks, or a new one."""
    wanted = json.dumps(fingerprint, sort_keys=True)
    if partial.exists():
        conn = None
        try:
            conn = _connect(partial)
            if dict(conn.execute("SELECT key, value FROM meta").fetchall()).get("fingerprint") == wanted:
                return conn, {block for (block,) in conn.execute("SELECT block FROM done_blocks")}
        except sqlite3.DatabaseError:  # not a partial file of ours: start again
            pass
        if conn is not None:
            conn.close()
        for path in (partial, *(partial.with_name(partial.name + suffix) for suffix in ("-wal", "-shm"))):
            path.unlink(missing_ok=True)  # a stale log must not be replayed into the new file
    conn = _connect(partial)
    conn.executescript(SCHEMA)
    with conn:
        conn.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (wanted,))
    return conn, set()


@contextlib.contextmanager
def dask_backend(address: str | None):
    """Within the block, joblib runs its tasks on the Dask scheduler at ``address``
    (``tcp://host:port``; the ``dask`` extra); ``None`` changes nothing."""
    if address is None:
        yield
        return
    try:
        from dask.distributed import Client  # the dask extra
    except ImportError:
        raise InvalidOptionError("--dask needs Dask: pip install 'recommender[dask]'") from None
    try:
        client = Client(address)
    except (OSError, ValueError) as error:  # unreachable scheduler (TimeoutError), malformed address
        raise InvalidOptionError(f"cannot use the Dask scheduler at {address!r}: {error}") from None
    with client, joblib.parallel_config(backend="dask"):
        yield


def _progress(total: int, initial: int, enabled: bool | None):
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return contextlib.nullcontext(None)
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="block", desc="precompute", file=sys.stderr)


def _fsync_replace(source: Path, target: Path) -> None:
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def export_jsonl(database: Path, target: Path, catalog: Catalog | None = None) -> None:
    """Write one JSON line per (list, article) from a finished SQLite output, atomically;
    with the model's ``catalog``, items also carry ``title``, ``url``, ``section`` and
    ``published_at``."""
    shown: dict[str, dict] = {}

    def item_of(item: str, score: float) -> dict:
        if catalog is None:
            return {"id": item, "score": score}
        if item not in shown:
            card = catalog.display([catalog.row(item)])[0]
            del card["article_id"]
            shown[item] = card
        return {"id": item, "score": score, **shown[item]}

    partial = target.with_name(target.name + ".partial")
    conn = sqlite3.connect(database)
    try:
        with open(partial, "w", encoding="utf-8") as out:
            current, items = None, []
            query = "SELECT list, article_id, item_id, score FROM lists ORDER BY list, article_id, rank"
            for name, article_id, item, score in conn.execute(query):
                if (name, article_id) != current:
                    if current:
                        out.write(json.dumps({"list": current[0], "article_id": current[1], "items": items}) + "\n")
                    current, items = (name, article_id), []
                items.append(item_of(item, score))
            if current:
                out.write(json.dumps({"list": current[0], "article_id": current[1], "items": items}) + "\n")
    finally:
        conn.close()
    _fsync_replace(partial, target)


def precompute(
    model: str | os.PathLike,
    out: str | os.PathLike,
    *,
    k: int = 10,
    pages: bool = False,
    now: datetime | None = None,
    jsonl: str | os.PathLike | None = None,
    jsonl_fields: bool = False,
    n_jobs: int | None = None,
    block_size: int = 256,
    dask: str | None = None,
    progress: bool | None = None,
) -> PrecomputeReport:
    """Precompute lists for every article of a saved model.

    Parameters
    ----------
    model : path-like
        Model directory written by :meth:`Recommender.save`; with Dask, a path every
        worker can read.
    out : path-like
        SQLite file to publish.
    k : int, default=10
        Related list length (page lists use the page's own lengths).
    pages : bool, default=False
        Also precompute each page's Ranking and Recommendation lists for an anonymous
        reader at ``now`` (slower: one :meth:`Recommender.page` call per article).
    now : datetime, optional
        Site time of the lists (``None``: the current time); required with ``pages``, so
        that reruns give the same output. Articles published later get no lists and appear
        in none; the output records until when it is valid (module docstring).
    jsonl : path-like, optional
        Also export the lists as JSON lines.
    jsonl_fields : bool, default=False
        Give the JSON lines' items what a page renders: ``title``, ``url``, ``section``,
        ``published_at`` (from the model's catalogue; one lookup per distinct item).
    n_jobs : int or None
        Worker processes; ``None`` means 1 unless inside a joblib backend context, ``-1`` all cores.
    block_size : int, default=256
        Articles per block: peak memory grows with it, not with the archive.
    dask : str, optional
        Address of a Dask scheduler (``tcp://host:port``) to run the blocks on.
    progress : bool or None
        Show a progress bar; ``None``: only on a terminal.

    Returns
    -------
    PrecomputeReport
    """
    k, block_size = check_k(k), check_k(block_size, "block_size")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0):
        raise InvalidOptionError(f"n_jobs must be None, a positive number of workers or -1 (all cores), got {n_jobs!r}")
    if pages and now is None:
        raise InvalidOptionError("pages=True needs a fixed now, so that reruns and resumes agree")
    now = check_now(now)
    version = store.resolve(store.check_path(model, "model"))
    manifest = store.read_manifest(version)
    # the article count comes from the verified arrays, never from the manifest alone
    loaded = Recommender.load(version, mmap=True, verify=True)
    n_articles = len(loaded.catalog_)
    rules = rules_with_log(model, loaded).to_json()
    until = valid_until(loaded.catalog_, epoch_seconds(now))
    until_text = "" if until is None else datetime.fromtimestamp(until, now.tzinfo).isoformat()
    blocks = block_rows(n_articles, block_size)
    out = _target(store.check_path(out, "out"), _is_lists_database)
    jsonl = _target(store.check_path(jsonl, "jsonl"), _is_lists_jsonl) if jsonl is not None else None
    partial = out.with_name(out.name + ".partial")
    # related lists depend on now only through which articles are published
    fingerprint = {"model": str(version), "created_at": manifest["created_at"], "k": k, "pages": pages,
                   "now": now.isoformat() if pages else None, "valid_until": until_text,
                   "published": int((loaded.catalog_.published <= epoch_seconds(now)).sum()),
                   "block_size": block_size, "rules": rules}
    with contextlib.ExitStack() as held:
        for path, what in ((out, "cannot write the output"), (jsonl, "cannot write the JSON lines")):
            if path is not None:  # both outputs claimed before any work: one that cannot be written fails now
                with _writing(path, what):
                    held.enter_context(_exclusive(path))
        with _writing(out, "cannot write the output"):
            written, resumed = _write_lists(out, partial, fingerprint, version, blocks, k, pages, now, rules, until_text,
                                            n_jobs, dask, progress)
        if jsonl is not None:
            with _writing(jsonl, "cannot write the JSON lines"):
                catalog = Recommender.load(version, mmap=True, verify=False).catalog_ if jsonl_fields else None
                export_jsonl(out, jsonl, catalog)
    return PrecomputeReport(n_articles, len(blocks), resumed, written, out, jsonl)


def _write_lists(out: Path, partial: Path, fingerprint: dict, version: Path, blocks: list, k: int, pages: bool,
                 now: datetime, rules: dict, until_text: str, n_jobs: int | None, dask: Any,
                 progress: bool | None) -> tuple[int, int]:
    """Compute the blocks not done yet into ``partial``, then publish it as ``out``; returns
    the rows written by this run and the blocks resumed."""
    conn, done = _open_partial(partial, fingerprint)
    resumed = len(done)
    written = 0
    tasks = (joblib.delayed(_block_task)(str(version), number, rows, k, pages, now, rules)
             for number, rows in enumerate(blocks) if number not in done)
    try:
        with dask_backend(dask), _progress(len(blocks), resumed, progress) as bar:
            for number, rows in joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):
                with conn:
                    conn.executemany("INSERT INTO lists VALUES (?, ?, ?, ?, ?)", rows)
                    conn.execute("INSERT INTO done_blocks VALUES (?)", (number,))
                written += len(rows)
                if bar is not None:
                    bar.update(1)
        with conn:
            conn.execute("CREATE INDEX IF NOT EXISTS lists_by_article ON lists (list, article_id, rank)")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('complete', ?)",
                         (datetime.now().astimezone().isoformat(),))
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             [("now", now.isoformat()), ("valid_until", until_text)])
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to publish
    finally:
        conn.close()
    _fsync_replace(partial, out)
    return written, resumed


def rules_with_log(model: str | os.PathLike, loaded: Recommender) -> EditorialRules:
    """The editorial rules to apply: the saved model's, with the ``"rules"`` entries of the
    update log beside it folded in as every serving process folds them (no log is created)."""
    log_path = Path(model) / LOG_NAME
    rules = loaded.rules
    if not log_path.is_file():
        return rules
    log = UpdateLog(log_path)
    try:
        for _, kind, payload in log.entries_after(loaded.log_position_):
            if kind == "rules":
                try:
                    rules = changed_rules(rules, payload)
                except RecommenderError:  # skipped by the serving processes too
                    continue
        return rules
    finally:
        log.close()


def _target(path: str | os.PathLike, earlier_output: Callable[[Path], bool]) -> Path:
    """An output path: nothing yet, or a file ``earlier_output`` recognises as an earlier run's
    output, in a directory that exists or can be made.

    Only earlier outputs are ever replaced: a device (``/dev/full``), a FIFO, a directory or
    any other file at that name (the reactions CSV given by mistake) is refused, not swapped
    for the new lists."""
    path = Path(path)
    try:
        found = path.stat()
    except FileNotFoundError:
        found = None
    except OSError as error:  # e.g. a parent that is a file (ENOTDIR), no permission
        raise ArtifactError(f"{path}: cannot write here ({error.strerror or error})") from None
    if found is not None and not stat.S_ISREG(found.st_mode):
        kind = "a directory; give a file name such as lists.sqlite" if stat.S_ISDIR(found.st_mode) else \
            "not a regular file"
        raise ArtifactError(f"{path} is {kind}; precompute only replaces regular files")
    if found is not None and found.st_size and not earlier_output(path):
        raise ArtifactError(f"{path} exists and is not an earlier precompute output; "
                            f"precompute only replaces its own files (remove it, or choose another name)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArtifactError(f"{path}: cannot create its directory ({error.strerror or error})") from None
    return path


def _is_lists_database(path: Path) -> bool:
    """Whether ``path`` is an SQLite database holding a ``lists`` table (an earlier output)."""
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            return False
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lists'").fetchone() \
                is not None
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def earlier_output(path: Path) -> bool:
    """Whether ``path`` is an earlier precompute output: a lists database or JSON lines export."""
    return _is_lists_database(path) or _is_lists_jsonl(path)


def _is_lists_jsonl(path: Path) -> bool:
    """Whether the first line of ``path`` is a list record (an earlier JSON lines output)."""
    with open(path, "rb") as handle:
        first = handle.readline(1 << 20)
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and {"list", "article_id", "items"} <= record.keys()


@contextlib.contextmanager
def _writing(path: Path, what: str):
    """Write errors (disk full, read-only file system, no permission) as :class:`ArtifactError`;
    the file at ``path`` stays as it was."""
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        if isinstance(error, ArtifactError):
            raise
        raise ArtifactError(f"{path}: {what} ({type(error).__name__}: {error})") from None


@contextlib.contextmanager
def _exclusive(path: Path):
    """Hold ``PATH.lock`` for the block: a second run on the same output stops at once with
    :class:`ArtifactError` instead of writing the same partial file."""
    lock = path.with_name(path.name + ".lock")
    handle = open(lock, "a+b")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArtifactError(f"{path}: another run is writing this output; wait for it or choose another "
                                f"file") from None
        yield
    finally:
        handle.close()
