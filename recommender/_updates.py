"""The shared update log: one SQLite file in WAL mode beside the model (``updates.sqlite``).

How it works
------------
Every serving process of a site folds the same log into its model, so an update posted to one
process reaches all of them. The log is a table of entries ``(position, kind, payload)``
(see :mod:`recommender._entries`), positions increasing by commit order::

    updates(position INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, payload TEXT, logged_at REAL)

* **Writing** (:meth:`UpdateLog.writing`): an ``IMMEDIATE`` transaction takes the one write
  lock, the writer folds the entries it has not applied yet, checks its update against that
  state (the same pure transition every reader will replay), appends it and commits. An update
  that cannot apply never reaches the log, and writers are serialised, so every entry applies
  on every process. A writer killed before its commit leaves nothing (SQLite rolls the
  transaction back); one killed after it leaves a whole entry.
* **Reading** (:meth:`UpdateLog.last_position`, :meth:`UpdateLog.entries_after`): readers
  never block writers in WAL mode; checking for news is one indexed ``max(position)``.
* **Compaction** (:meth:`UpdateLog.compact`): entries up to a position every published
  version still on disk has absorbed are deleted (:class:`~recommender.ModelHandle.compact`).

Another database can stand in for SQLite: anything with these five operations and a single
writer lock (e.g. a server database with ``SELECT ... FOR UPDATE`` on a counter row) serves.

Durability: ``synchronous=NORMAL`` in WAL mode; a killed process never loses a committed
entry, a power cut may lose the last ones.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .exceptions import ArtifactError

__all__ = ["LOG_NAME", "UpdateLog"]

LOG_NAME = "updates.sqlite"
BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another writer's transaction before failing."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    logged_at REAL NOT NULL
)
"""


def _write_ahead(db: sqlite3.Connection) -> None:
    """Put the log in WAL mode (kept in the file, so this is a no-op once done). Processes that
    open a new log at the same moment (the workers of one server) may each hold a read lock
    while asking to convert it: SQLite then answers "locked" at once instead of waiting, so
    the conversion is retried until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class UpdateLog:
    """An update log in a SQLite file (created if missing).

    Parameters
    ----------
    path : path-like
        The log file, usually ``<model directory>/updates.sqlite``.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()  # one connection, shared by the threads of a process
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _write_ahead(self._db)
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as error:
            raise ArtifactError(f"{self.path}: cannot open the update log ({error})") from error

    def last_position(self) -> int:
        """Position of the newest entry (0 for an empty log)."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(position), 0) FROM updates").fetchone()[0])

    def entries_after(self, position: int) -> list[tuple[int, str, dict[str, Any]]]:
        """Entries after ``position``, oldest first, as ``(position, kind, payload)``."""
        with self._lock:
            rows = self._db.execute("SELECT position, kind, payload FROM updates WHERE position > ? ORDER BY position",
                                    (int(position),)).fetchall()
        return [(int(p), kind, json.loads(payload)) for p, kind, payload in rows]

    def first_position(self) -> int:
        """Position of the oldest entry still held (compaction deletes older ones); 0 when empty."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MIN(position), 0) FROM updates").fetchone()[0])

    @contextmanager
    def writing(self) -> Iterator[_Writer]:
        """A write transaction holding the log's write lock; committed when the block ends
        without an exception, rolled back otherwise."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise ArtifactError(f"{self.path}: cannot lock the update log ({error})") from error
            try:
                yield _Writer(self)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def compact(self, up_to: int) -> int:
        """Delete entries at or before ``up_to``; return how many."""
        with self._lock:
            return self._db.execute("DELETE FROM updates WHERE position <= ?", (int(up_to),)).rowcount

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate it, so that rows
        deleted or rewritten (a purge) survive in neither file; ``False`` when a reader kept
        the checkpoint from completing (run it again later)."""
        with self._lock:
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    def close(self) -> None:
        with self._lock:
            self._db.close()


class _Writer:
    """What a write transaction may do: read the entries it must fold, append one."""

    def __init__(self, log: UpdateLog) -> None:
        self._log = log

    def entries_after(self, position: int) -> list[tuple[int, str, dict[str, Any]]]:
        return self._log.entries_after(position)

    def rewrite(self, position: int, payload: dict[str, Any] | None) -> None:
        """Replace the payload of the entry at ``position``, or delete the entry (``None``).

        The old content is overwritten with zeros (SQLite's ``secure_delete``), not only
        unlinked; positions are never reused (``AUTOINCREMENT``). For purges only: every
        process must replay the rewritten entry the same way."""
        db = self._log._db
        db.execute("PRAGMA secure_delete = ON")
        if payload is None:
            db.execute("DELETE FROM updates WHERE position = ?", (int(position),))
        else:
            db.execute("UPDATE updates SET payload = ? WHERE position = ?",
                       (json.dumps(payload, ensure_ascii=False, separators=(",", ":")), int(position)))

    def append(self, kind: str, payload: dict[str, Any]) -> int:
        cursor = self._log._db.execute("INSERT INTO updates (kind, payload, logged_at) VALUES (?, ?, ?)",
                                       (kind, json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                                        time.time()))
        return int(cursor.lastrowid)
