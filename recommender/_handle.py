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

I/O at the edge: this module reads the model directory; the lists are computed by the model.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from . import _store as store
from ._model import Recommender
from .exceptions import ArtifactError, InvalidOptionError

__all__ = ["CHECK_INTERVAL", "ModelHandle"]

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0
"""Default seconds between two looks at ``current`` (how stale a process may be after a publish)."""


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
                 check_interval: float = CHECK_INTERVAL) -> None:
        if isinstance(check_interval, bool) or not isinstance(check_interval, (int, float)) or not check_interval >= 0:
            raise InvalidOptionError(f"check_interval must be a number of seconds >= 0, got {check_interval!r}")
        self.path = Path(path)
        self.mmap, self.verify, self.check_interval = mmap, verify, float(check_interval)
        self._loading = threading.Lock()
        self._model = Recommender.load(self.path, mmap=mmap, verify=verify)
        self._checked = time.monotonic()
        self._skipped: str | None = None  # a version that failed to load: not tried again

    @property
    def model(self) -> Recommender:
        """The current model (checking for a newer version at most every ``check_interval`` s).

        Take it once per request and use that object for the whole request."""
        if time.monotonic() - self._checked >= self.check_interval:
            self.refresh(wait=False)
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

    def __repr__(self) -> str:
        return f"ModelHandle({str(self.path)!r}, version={self.version!r})"
