"""A serving process's view of a model directory: :class:`ModelHandle`.

How it works
------------
A batch job publishes new versions of a model with :meth:`Recommender.save` (atomically:
``current`` switches from one complete version directory to the next; see
:mod:`recommender._store`). Each serving process holds a :class:`ModelHandle`::

    handle = ModelHandle("models/news", mmap=True)

    def related_view(article_id):
        return [hit.to_dict() for hit in handle.model.related(article_id)]

:attr:`ModelHandle.model` checks ``current`` at most once every ``check_interval`` seconds
(one ``readlink``: microseconds) and, when it names another version, loads that version and
swaps it in. Requests already running keep the model object they started with, and finish
on it: nothing is modified in place, and mapped arrays stay valid even once their files are
deleted. While one thread loads the new version, other threads keep answering from the
old one instead of waiting. A version that fails to load (damaged, incompatible) is logged
and skipped; the handle keeps serving the version it has.

Retention: :meth:`Recommender.save` keeps every version published in the last
``retain_seconds`` (15 minutes) besides the ``keep`` newest, so a process switches long
before the files it maps are deleted (and POSIX keeps mapped files readable even then).

Live updates shared by every worker: with ``updates=True`` the handle also folds the shared
update log beside the model (``updates.sqlite``, see :mod:`recommender._updates`) into its
model at most ``staleness`` seconds after another process appended to it, and its write
methods (:meth:`ModelHandle.add_articles`, :meth:`~ModelHandle.record_reactions`,
:meth:`~ModelHandle.remove_articles`, and the editorial rules: :meth:`~ModelHandle.block`,
:meth:`~ModelHandle.pin`...) validate an update against the state at the end of the
log, append it and apply it. A process that folded the log up to position ``P`` holds exactly
the state of the published model given the same updates directly. A published version
records the log position its state absorbed (:attr:`Recommender.log_position_`); a handle
switching to it replays the entries after that position before serving it.

I/O at the edge: this module reads the model directory; the lists are computed by the model.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from . import _store as store
from ._articles import load_articles
from ._catalog import id_hash
from ._checks import check_exclude, check_now
from ._aliases import check_aliases
from ._entries import (aliases_entry, apply_entry, articles_entry, carries_nothing, reactions_entry, removals_entry,
                       replay, rule_entry)
from ._model import Recommender
from ._reactions import load_reactions
from ._related import prepare_search
from ._time import epoch_seconds
from ._updates import LOG_NAME, UpdateLog
from .exceptions import ArtifactError, InvalidOptionError

__all__ = ["CHECK_INTERVAL", "STALENESS", "ModelHandle"]

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0
"""Default seconds between two looks at ``current`` (how stale a process may be after a publish)."""

STALENESS = 1.0
"""Default seconds between two looks at the update log (how late another process's update may arrive)."""


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidOptionError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return float(value)


class ModelHandle:
    """The current version of a saved model, reloaded when a new version is published.

    Parameters
    ----------
    path : path-like
        A model directory written by :meth:`Recommender.save`.
    mmap : bool, default=True
        Memory-map the arrays, so worker processes share one copy of each version.
    verify : bool, default=True
        Check every file's checksum at each load.
    check_interval : float, default=1.0
        Seconds between two checks of ``current``; ``0`` checks on every access.
    updates : bool, default=False
        Share live updates with every process through ``<path>/updates.sqlite`` (created if
        missing): fold other processes' updates, and enable the write methods. A write with
        nothing in it (no articles, reactions, ids or aliases) logs nothing and returns the
        log position this process has applied.
    staleness : float, default=1.0
        Seconds between two looks at the update log: the most an update posted to another
        process waits before this one answers with it.

    Examples
    --------
    >>> import tempfile
    >>> from recommender import ModelHandle, Recommender, load_articles
    >>> from recommender.datasets import sample_articles_path
    >>> path = tempfile.mkdtemp()
    >>> Recommender().fit(load_articles(sample_articles_path())).save(path)
    >>> handle = ModelHandle(path)
    >>> handle.model.version == handle.version
    True
    """

    def __init__(self, path: str | os.PathLike, *, mmap: bool = True, verify: bool = True,
                 check_interval: float = CHECK_INTERVAL, updates: bool = False, staleness: float = STALENESS) -> None:
        self.check_interval = _seconds(check_interval, "check_interval")
        self.staleness = _seconds(staleness, "staleness")
        self.path = Path(path)
        self.mmap, self.verify = mmap, verify
        self._loading = threading.Lock()
        self._skipped: str | None = None  # a version that failed to load: not tried again
        model = Recommender.load(self.path, mmap=mmap, verify=verify)
        self._log = UpdateLog(self.path / LOG_NAME) if updates else None
        if self._log is not None:
            self._fold(model, self._log.entries_after(model.log_position_))
        prepare_search(model._fitted())
        self._model = model
        self._checked = self._polled = time.monotonic()

    @property
    def model(self) -> Recommender:
        """The current model (checking for a newer version at most every ``check_interval`` s).

        Take it once per request and use that object for the whole request."""
        moment = time.monotonic()
        if moment - self._checked >= self.check_interval:
            self.refresh(wait=False)
        if self._log is not None and moment - self._polled >= self.staleness:
            self.poll(wait=False)
        return self._model

    @property
    def version(self) -> str | None:
        """The version the handle serves (see :attr:`Recommender.version`)."""
        return self._model.version

    def refresh(self, *, wait: bool = True) -> bool:
        """Switch to the version ``current`` names, if it is another one.

        Parameters
        ----------
        wait : bool, default=True
            If another thread is loading a version already, wait for it (``False``: return
            at once and keep serving the version held).

        Returns
        -------
        bool
            Whether a new version was swapped in.
        """
        if not self._loading.acquire(blocking=wait):
            return False
        try:
            self._checked = time.monotonic()
            name = store.current_version(self.path)
            if name is None or name in (self._model.version, self._skipped):
                return False
            try:
                model = Recommender.load(self.path, mmap=self.mmap, verify=self.verify)
                if self._log is not None:  # the updates the new version has not absorbed
                    self._fold(model, self._log.entries_after(model.log_position_))
                prepare_search(model._fitted())  # here, not in the new version's first requests
            except ArtifactError as error:
                logger.warning("%s: keeping version %s; version %s does not load (%s)", self.path,
                               self._model.version, name, error)
                self._skipped = name
                return False
            self._model = model
            logger.info("%s: now serving version %s", self.path, model.version)
            return True
        finally:
            self._loading.release()

    # ------------------------------------------------------------------ the update log
    @property
    def log_position(self) -> int:
        """The last update-log entry the served model folded in."""
        return self._model.log_position_

    def poll(self, *, wait: bool = True) -> int:
        """Fold the update-log entries this process has not applied yet; return how many."""
        log = self._require_log()
        if not self._loading.acquire(blocking=wait):
            return 0
        try:
            self._polled = time.monotonic()
            model = self._model
            if log.last_position() <= model.log_position_:
                return 0
            entries = log.entries_after(model.log_position_)
            self._fold(model, entries)
            return len(entries)
        finally:
            self._loading.release()

    def add_articles(self, articles: Iterable[Any] | str | os.PathLike) -> int:
        """Add articles for every process (see :meth:`Recommender.add_articles`); return the
        log position of the update. Raises as :meth:`Recommender.add_articles`, and then
        nothing is logged."""
        return self._write("articles", articles_entry(load_articles(articles)))

    def record_reactions(self, reactions: Any, *, now: datetime | None = None) -> int:
        """Record reactions for every process (see :meth:`Recommender.record_reactions`);
        return the log position of the update (nothing is logged if they are refused)."""
        moment = epoch_seconds(check_now(now))
        records = load_reactions(reactions)
        purged = self._model._fitted().purged
        if purged:  # late reactions to purged articles never reach the log (the transition drops them too)
            records = [r for r in records if id_hash(r.article_id) not in purged]
        return self._write("reactions", reactions_entry(records, moment))

    def remove_articles(self, article_ids: Iterable[str]) -> int:
        """Unpublish articles for every process (see :meth:`Recommender.remove_articles`);
        return the log position of the update (nothing is logged if an id is unknown)."""
        return self._write("removals", removals_entry(check_exclude(article_ids, "article_ids")))

    def add_aliases(self, aliases: Any) -> int:
        """Declare aliases for every process (see :meth:`Recommender.add_aliases`); return the
        log position of the update (nothing is logged if a pair is refused)."""
        return self._write("aliases", aliases_entry(check_aliases(aliases)))

    def block(self, item: str, *, under: str | None = None) -> int:
        """Block an item for every process (see :meth:`Recommender.block`): it leaves their
        lists within ``staleness`` seconds. Returns the log position of the update."""
        return self._write("rules", rule_entry("block", item=item, under=under))

    def unblock(self, item: str, *, under: str | None = None) -> int:
        """Lift a block for every process (see :meth:`Recommender.unblock`); returns the log position."""
        return self._write("rules", rule_entry("unblock", item=item, under=under))

    def pin(self, item: str, *, under: str, position: int) -> int:
        """Pin an item for every process (see :meth:`Recommender.pin`); returns the log position."""
        return self._write("rules", rule_entry("pin", item=item, under=under, position=position))

    def unpin(self, item: str, *, under: str) -> int:
        """Remove a pin for every process (see :meth:`Recommender.unpin`); returns the log position."""
        return self._write("rules", rule_entry("unpin", item=item, under=under))

    def set_eligibility(self, rules: Iterable[Any]) -> int:
        """Replace the eligibility rules for every process (see :meth:`Recommender.set_eligibility`);
        returns the log position (nothing is logged if a rule is invalid)."""
        return self._write("rules", rule_entry("eligibility", rules=[
            rule if isinstance(rule, dict) else rule.to_json() for rule in rules]))

    def compact(self) -> int:
        """Delete the log entries every version still on disk has absorbed; return how many.

        A process switching to any retained version replays only entries after its position,
        so those are all it can still need."""
        log = self._require_log()
        root = self.path / store.VERSIONS
        positions = []
        for version in (root.iterdir() if root.is_dir() else ()):
            if version.name.startswith("."):
                continue
            try:
                positions.append(int(json.loads((version / store.MANIFEST).read_text("utf-8")).get("log_position", 0)))
            except (OSError, ValueError):
                return 0  # a version being pruned or written: compact another time
        return log.compact(min(positions, default=0))

    def _require_log(self) -> UpdateLog:
        if self._log is None:
            raise InvalidOptionError("this handle shares no update log; open it with ModelHandle(path, updates=True)")
        return self._log

    def _write(self, kind: str, payload: dict[str, Any]) -> int:
        log = self._require_log()
        if carries_nothing(kind, payload):  # nothing to share: no entry, this process's position
            return self._model.log_position_
        payload = json.loads(json.dumps(payload))  # apply exactly what the other processes will read
        with self._loading:
            model = self._model
            with log.writing() as writer:
                state = self._folded(model, writer.entries_after(model.log_position_))
                position = writer.append(kind, payload)
                state = apply_entry(state, position, kind, payload, model._reaction_policy())  # raises: rolled back
            model._adopt(state)
            self._polled = time.monotonic()
        return position

    def _folded(self, model: Recommender, entries: list) -> Any:
        """``model``'s state with ``entries`` replayed, in log order. An entry that does not apply
        to this state (a refit version that already holds an article the log adds) is skipped
        the same way by every process."""
        def skipped(position: int, kind: str, error: Exception) -> None:
            logger.warning("%s: update %d (%s) skipped: %s", self.path, position, kind, error)

        return replay(model._fitted(), entries, model._reaction_policy(), on_skip=skipped)

    def _fold(self, model: Recommender, entries: list) -> None:
        if entries:
            model._adopt(self._folded(model, entries))
            prepare_search(model._fitted())  # articles added: new profiles, built here rather than in a request

    def __repr__(self) -> str:
        return f"ModelHandle({str(self.path)!r}, version={self.version!r})"
