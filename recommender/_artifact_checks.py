"""What a loaded artifact may hold: types and shapes always, values with ``verify``.

A checksum proves a file is the one the manifest names, not that a saved model could have
written it: someone who can write a model directory can also rewrite its checksums. So
:func:`recommender._persist.from_artifact` checks the content too, in two tiers.

* **Always** (``verify=False`` as well; a few passes over the index arrays): every array has
  the dtype and number of dimensions a model saves (native byte order; no ``U12``, ``float16``
  or ``>i4``); CSR parts describe a matrix of the right shape, with every index in range;
  the manifest's counts agree with the arrays. Compiled code (scipy's sparse products,
  numpy fancy indexing) trusts these, so no file content can crash the process.
* **With** ``verify=True``: the values are ones a model can hold — finite, non-negative scores
  and weights, row indices sorted and unique, unit-length article vectors, postings that are
  the vectors' transpose, positive IDF weights, unique string terms, valid pending reactions,
  popularity masses within :data:`MAX_REACTION_MASS`.

Each check raises ``ValueError`` naming the part; :meth:`Recommender.load` turns it into
:class:`~recommender.exceptions.CorruptArtifactError`. Pure: arrays and documents in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["MAX_REACTION_MASS", "check_counts", "check_csr", "check_documents", "check_dtypes",
           "check_popularity", "check_profile_values", "check_vectors"]

MAX_REACTION_MASS = 1e30
"""Largest weighted reaction mass a stored article may carry: far above any real total
(10**9 presses per record), far below where sums of masses overflow a float."""

UNIT_NORM_TOLERANCE = 1e-3  # article vectors are unit length (or empty) up to float32 rounding

_FLOATS = ("f4", "f8")
_INDICES = ("i4", "i8")
_EXPECTED: dict[str, tuple[tuple[str, ...], int]] = {
    "idf": (_FLOATS, 1),
    "popularity_mass": (("f8",), 2),
    "popularity_last": (("f8",), 1),
    "profile_kth": (_FLOATS, 1),
    "profile_norms": (_FLOATS, 1),
    "profile_outside": (_FLOATS, 1),
    "removed": (("u1", "b1"), 1),
    **{f"{prefix}_data": (_FLOATS, 1) for prefix in ("vectors", "postings", "profiles", "profile_postings")},
    **{f"{prefix}_{part}": (_INDICES, 1) for prefix in ("vectors", "postings", "profiles", "profile_postings")
       for part in ("indices", "indptr")},
}
_EXPECTED_DTYPES = {name: {np.dtype(kind) for kind in kinds} for name, (kinds, _) in _EXPECTED.items()}


def check_dtypes(arrays: Mapping[str, np.ndarray]) -> None:
    """Every known array has a dtype and a number of dimensions a saved model writes."""
    for name, array in arrays.items():
        if name not in _EXPECTED:
            continue  # the catalogue checks its own arrays
        if array.dtype not in _EXPECTED_DTYPES[name] or array.ndim != _EXPECTED[name][1]:
            kinds = " or ".join(_EXPECTED[name][0])
            raise ValueError(f"array {name!r} is {array.ndim}-D {array.dtype.str}; a model saves {_EXPECTED[name][1]}-D "
                             f"{kinds} in native byte order")


def check_csr(prefix: str, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
              shape: tuple[int, int], verify: bool) -> None:
    """The parts describe a ``shape`` CSR matrix with every index in range (always); with
    ``verify``, each row's indices are sorted and unique and every value is finite."""
    nnz = len(indices)
    ok = (
        indptr.ndim == indices.ndim == data.ndim == 1
        and len(indptr) == shape[0] + 1
        and len(data) == nnz
        and int(indptr[0]) == 0 and int(indptr[-1]) == nnz
        and bool(np.all(indptr[1:] >= indptr[:-1]))
        and (nnz == 0 or (int(indices.min()) >= 0 and int(indices.max()) < shape[1]))
    )
    if not ok:
        raise ValueError(f"{prefix} matrix arrays do not describe a {shape} CSR matrix")
    if not verify:
        return
    if not np.isfinite(data).all():
        raise ValueError(f"{prefix} matrix holds NaN or infinite values")
    if nnz > 1:
        increasing = indices[1:] > indices[:-1]
        starts = indptr[1:-1]
        starts = starts[(starts > 0) & (starts < nnz)]
        increasing[starts - 1] = True  # a new row may start lower
        if not increasing.all():
            raise ValueError(f"{prefix} matrix rows have unsorted or repeated column indices")


def check_vectors(vectors: sp.csr_matrix, postings: sp.csr_matrix) -> None:
    """Article vectors are positive and unit length (or empty); postings are their transpose."""
    if vectors.nnz and not (vectors.data.min() > 0):
        raise ValueError("article vectors hold weights that are not positive")
    norms = np.sqrt(np.add.reduceat(np.square(vectors.data, dtype=np.float64), vectors.indptr[:-1])
                    if vectors.nnz else np.zeros(vectors.shape[0]))
    empty = np.diff(vectors.indptr) == 0
    norms[empty] = 1.0  # reduceat gives the next row's value for an empty row
    if not (np.abs(norms - 1.0) <= UNIT_NORM_TOLERANCE).all():
        raise ValueError("article vectors are not unit length")
    transposed = vectors.T.tocsr()
    transposed.sort_indices()
    if not (np.array_equal(transposed.indptr, postings.indptr) and np.array_equal(transposed.indices, postings.indices)
            and np.array_equal(transposed.data, postings.data)):
        raise ValueError("postings are not the transpose of the article vectors")


def check_profile_values(kth: np.ndarray, norms: np.ndarray, outside: np.ndarray) -> None:
    """Profile bounds are finite cosines; norms at least 1 (an article's own weight)."""
    for name, values in (("m-th cosines", kth), ("outside bounds", outside)):
        if not (np.isfinite(values).all() and (values >= 0).all() and (values <= 1.0001).all()):
            raise ValueError(f"profile {name} outside [0, 1]")
    if not (np.isfinite(norms).all() and (norms >= 0.9999).all()):
        raise ValueError("profile norms are not finite numbers of at least 1")


def check_popularity(mass: np.ndarray, last: np.ndarray) -> None:
    """Masses finite, non-negative, at most :data:`MAX_REACTION_MASS`; times finite (``-inf``
    for an article without reactions, whose masses are 0)."""
    if not (np.isfinite(mass).all() and (mass >= 0).all() and (mass <= MAX_REACTION_MASS).all()):
        raise ValueError(f"popularity masses must be finite numbers in [0, {MAX_REACTION_MASS:g}]")
    never = np.isneginf(last)
    if not (np.isfinite(last) | never).all() or mass[never].any():
        raise ValueError("popularity times must be finite (-inf only for articles without reactions)")


def check_counts(counts: Any, *, articles: int, terms: int, nnz: int, pending: int, configured: Any) -> None:
    """The manifest's counts are those of the arrays (a count is never trusted on its own);
    the profile length is the model's ``neighbours`` option (``configured``)."""
    if not isinstance(counts, Mapping):
        raise ValueError("manifest counts are not an object")
    actual = {"articles": articles, "terms": terms, "nnz": nnz, "pending_reactions": pending}
    for name, value in actual.items():
        stated = counts.get(name, value)
        if isinstance(stated, bool) or not isinstance(stated, int) or stated != value:
            raise ValueError(f"manifest counts {name}={stated!r}, the arrays hold {value}")
    neighbours = counts.get("neighbours", 0)
    if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 0:
        raise ValueError(f"manifest counts neighbours={neighbours!r} is not a non-negative integer")
    if configured is not None and neighbours != configured:
        raise ValueError(f"manifest counts neighbours={neighbours!r} but the neighbours option is {configured!r}")


def _strings(values: Any) -> bool:
    """A list of str (JSON gives exact types: no subclasses to allow for)."""
    return isinstance(values, list) and set(map(type, values)) <= {str}


def check_documents(documents: Mapping[str, Any]) -> None:
    """Terms are unique strings (display terms strings of the same number); sections unique
    strings or null; growth non-negative integers."""
    terms = documents["terms"]
    if not _strings(terms):
        raise ValueError("terms are not a list of strings")
    if len(set(terms)) != len(terms):
        raise ValueError("a term is listed twice")
    display = documents.get("display_terms")
    if display is not None and (not _strings(display) or len(display) != len(terms)):
        raise ValueError("display terms are not one string per term")
    sections = documents.get("sections", [])
    if (not isinstance(sections, list) or not all(s is None or isinstance(s, str) for s in sections)
            or len(set(sections)) != len(sections)):
        raise ValueError("sections are not unique names")
    growth = documents.get("growth", {})
    if not isinstance(growth, Mapping) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in growth.values()):
        raise ValueError("growth is not a set of non-negative integers")
