"""numba, when installed: the compiler of the fit's kernels, with their machine code kept on disk.

Compiling the pair search's kernels takes about 6 s, once per process; with numba's cache the
first process writes the machine code beside the module (or, where that folder is read-only,
in numba's per-user cache folder) and every later process loads it in a fraction of a second:
a build, each worker of a precompute or a Dask cluster, each test process. Where no cache
folder can be written, the kernels are compiled per process as before.

Pure computation apart from numba's cache files.
"""

from __future__ import annotations

from collections.abc import Callable

try:
    import numba
except ImportError:  # pragma: no cover - exercised where numba is missing
    numba = None

__all__ = ["compiled", "numba"]


def compiled(function: Callable, **options) -> Callable:
    """``numba.njit(cache=True, **options)(function)``, or without the cache where numba finds
    no folder it can write (it then raises at decoration)."""
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(**options)(function)
