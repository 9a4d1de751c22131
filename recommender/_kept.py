"""Values computed from an object that never changes, kept beside it for the last keys asked.

A model's state parts (its popularity state, its index) never change once built: a new
version is a new object. What requests compute from one of them again and again (the Ranking
window's scores at a moment, a Recommendation pool's popular rows) is kept per
object, weakly (an object let go takes its values with it), for the last few keys asked, and
under a lock (any thread may ask).

Pure computation apart from the kept values.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable
from typing import Any

__all__ = ["KeptPerOwner"]


class KeptPerOwner:
    """Values kept per owner object and key, the ``size`` keys asked last of each owner.

    Parameters
    ----------
    size : int
        Keys kept per owner; a key found or put becomes the last to be let go.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # owner -> {key: value}
        self._lock = threading.Lock()

    def get(self, owner: Any, key: Hashable, default: Any = None) -> Any:
        """The value kept for ``owner`` and ``key``, or ``default``."""
        with self._lock:
            kept = self._kept.get(owner)
            if kept is None or key not in kept:
                return default
            kept[key] = kept.pop(key)  # asked last: let go last
            return kept[key]

    def put(self, owner: Any, key: Hashable, value: Any) -> None:
        """Keep ``value`` for ``owner`` and ``key``, letting go of the key asked longest ago
        beyond :attr:`size`."""
        with self._lock:
            kept = self._kept.setdefault(owner, {})
            kept.pop(key, None)
            kept[key] = value
            while len(kept) > self.size:
                kept.pop(next(iter(kept)))

    def owners(self) -> int:
        """How many owners have values kept (an owner let go counts no more)."""
        with self._lock:
            return len(self._kept)

    def keys(self, owner: Any) -> list:
        """The keys kept for ``owner``, asked longest ago first."""
        with self._lock:
            return list(self._kept.get(owner, {}))
