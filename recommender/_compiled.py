"""numba, when installed: the compiler of the fit's kernels, with their machine code kept on disk.

Compiling the pair search's kernels takes about 6 s, once per process; with numba's cache the
first process writes the machine code beside the module (or, where that folder is read-only,
in numba's per-user cache folder) and every later process loads it in a fraction of a second:
a build, each worker of a precompute or a Dask cluster, each test process. Where no cache
folder can be written, the kernels are compiled per process as before.

:func:`prefetch` hints a cache line into the core's cache ahead of its use (LLVM's
``llvm.prefetch``, which numba does not expose): the pair search reads the next terms'
postings at scattered places, and waiting for each costs more than its arithmetic.

Pure computation apart from numba's cache files.
"""

from __future__ import annotations

from collections.abc import Callable

try:
    import numba
except ImportError:  # pragma: no cover - exercised where numba is missing
    numba = None

__all__ = ["compiled", "numba", "prefetch"]


def compiled(function: Callable, **options) -> Callable:
    """``numba.njit(cache=True, **options)(function)``, or without the cache where numba finds
    no folder it can write (it then raises at decoration)."""
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(**options)(function)


def prefetch(array, index) -> None:  # pragma: no cover - replaced by the intrinsic below where numba is
    """Hint the cache line of ``array[index]`` into the cache, for a read (compiled code only;
    ``index`` may lie past the array: a prefetch never faults)."""


if numba is not None:
    from llvmlite import ir
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def prefetch(typing_context, array, index):  # noqa: F811 - the compiled form of the stub above
        def generate(context, builder, signature, arguments):
            array_type = signature.args[0]
            view = context.make_array(array_type)(context, builder, arguments[0])
            pointer = cgutils.get_item_pointer(context, builder, array_type, view, [arguments[1]], wraparound=False)
            byte_pointer, word = ir.IntType(8).as_pointer(), ir.IntType(32)
            hint = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, word, word, word]), "llvm.prefetch.p0i8")
            # a read (0), kept in every cache level (3), of data (1)
            builder.call(hint, [builder.bitcast(pointer, byte_pointer), ir.Constant(word, 0), ir.Constant(word, 3),
                                ir.Constant(word, 1)])
            return context.get_dummy_value()

        return numba.types.void(array, index), generate
