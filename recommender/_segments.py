"""Base + delta: how the growing structures (index, catalogue, profiles) take additions cheaply.

An addition goes to a small *delta* beside the large, immutable *base*, so adding an article
never copies the archive. Lookups read both. Once the delta outgrows :func:`should_fold`'s
rule, the two are folded into a new base (one copy, amortised over many additions). The old
base is never written, so a reader holding an older state keeps a consistent view.

Pure computation.
"""

from __future__ import annotations

__all__ = ["FOLD_MIN", "FOLD_SHARE", "should_fold"]

FOLD_MIN = 1_000
"""Delta size (rows, or entries for profile corrections) below which a delta is never folded."""

FOLD_SHARE = 20
"""A delta is folded once it exceeds 1/FOLD_SHARE (5 %) of its base, and ``FOLD_MIN``."""


def should_fold(delta_size: int, base_size: int, minimum: int = FOLD_MIN) -> bool:
    """Whether a delta of ``delta_size`` is due to be folded into a base of ``base_size``."""
    return delta_size > max(minimum, base_size // FOLD_SHARE)
