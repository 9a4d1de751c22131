"""Conversion between a :class:`~recommender._state.ModelState` and the arrays and JSON an artifact holds.

:func:`to_artifact` lists the arrays (CSR matrix and its transpose, neighbour profiles
and theirs, IDF, popularity state) and JSON documents (terms, article metadata, pending reactions, editorial rules) that
:func:`recommender._store.publish` writes; :func:`from_artifact` checks them for
consistency and rebuilds the state. No pickle anywhere, and no file I/O here
(:mod:`recommender._store` reads and writes the files).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import _artifact_checks as checks
from ._aliases import check_stored_aliases
from ._catalog import Catalog
from ._index import CosineIndex
from ._options import RelatedOptions
from ._popularity import PopularityConfig, PopularityState
from ._profiles import NeighbourProfiles
from ._reactions import Reaction, to_reaction
from ._rules import rules_from_json
from ._state import MAX_PENDING_REACTIONS, Growth, ModelState
from ._time_locality import Locality
from .exceptions import InvalidOptionError
from ._vectorize import TextVectorizer

__all__ = ["from_artifact", "to_artifact"]


def to_artifact(fitted: ModelState, config: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :func:`recommender._store.publish`."""
    vectors, postings = fitted.index.vectors, fitted.index.postings
    pending = [[r.article_id, r.reaction, r.count, r.at.isoformat() if r.at else None] for r in fitted.pending]
    profile_arrays = {}
    if fitted.profiles is not None:
        rows, profile_postings = fitted.profiles.rows, fitted.profiles.postings
        profile_arrays = {
            "profiles_data": rows.data, "profiles_indices": rows.indices, "profiles_indptr": rows.indptr,
            "profile_postings_data": profile_postings.data, "profile_postings_indices": profile_postings.indices,
            "profile_postings_indptr": profile_postings.indptr,
            "profile_kth": fitted.profiles.kth, "profile_norms": fitted.profiles.norms,
            "profile_outside": fitted.profiles.outside,
        }
    catalog_arrays, section_names = fitted.catalog.to_arrays()
    aliases = fitted.catalog.aliases
    alias_documents = {"aliases": sorted([alias, canonical] for alias, canonical in aliases.items())} if aliases else {}
    return {
        "arrays": {
            **profile_arrays,
            **catalog_arrays,
            "idf": fitted.vectorizer.idf_,
            "vectors_data": vectors.data,
            "vectors_indices": vectors.indices,
            "vectors_indptr": vectors.indptr,
            "postings_data": postings.data,
            "postings_indices": postings.indices,
            "postings_indptr": postings.indptr,
            "popularity_mass": fitted.popularity.mass,
            "popularity_last": fitted.popularity.last,
            **({"purged_id_hashes": np.array(sorted(fitted.purged), dtype=np.uint64)} if fitted.purged else {}),
        },
        "documents": {
            "terms": [str(term) for term in fitted.vectorizer.terms_],
            "sections": section_names,
            "pending_reactions": pending,
            "growth": asdict(fitted.growth),
            "display_terms": [str(term) for term in fitted.vectorizer.display_terms_],
            **alias_documents,
            "facets": fitted.catalog.facet_names(),
            "editorial": fitted.rules.to_json(),
        },
        "metadata": {
            "config": config,
            "vectorizer": fitted.vectorizer.get_params(),
            "counts": {
                "articles": len(fitted.catalog),
                "terms": len(fitted.vectorizer.terms_),
                "nnz": int(vectors.nnz),
                "pending_reactions": len(pending),
                "neighbours": fitted.profiles.m if fitted.profiles is not None else 0,
            },
            **({"time_locality": fitted.time_locality._asdict()} if fitted.time_locality is not None else {}),
        },
    }


def from_artifact(
    manifest: dict, arrays: dict[str, np.ndarray], documents: dict[str, Any], popularity: PopularityConfig, verify: bool
) -> ModelState:
    """Rebuild the fitted parts; ``KeyError``/``TypeError``/``ValueError`` mean an inconsistent artifact.

    Types, shapes, index ranges and the manifest's counts are always checked (nothing a file
    holds can crash the process); the values too with ``verify`` (:mod:`recommender._artifact_checks`).
    """
    checks.check_dtypes(arrays)
    if verify:
        checks.check_documents(documents)
    terms = documents["terms"]
    vectorizer = TextVectorizer.from_state(manifest["vectorizer"], terms, arrays["idf"],
                                           documents.get("display_terms"))
    if verify and not (np.isfinite(vectorizer.idf_).all() and (vectorizer.idf_ > 0).all()):
        raise ValueError("IDF weights must be finite and positive")
    if "articles" in documents:  # format versions 1 and 2: one JSON record per article
        # parts added within format version 1 default to "nothing removed"
        records = documents["articles"]
        removed = arrays.get("removed", np.zeros(len(records), dtype=np.uint8))
        if removed.shape != (len(records),):
            raise ValueError(f"removed mask has shape {removed.shape} for {len(records)} articles")
        catalog = Catalog()  # saved before languages: every article in the model's one language
        catalog.extend([{**record, "language": vectorizer.default_language} for record in records],
                       removed=removed.astype(bool))
    else:
        catalog = Catalog.from_arrays(arrays, documents["sections"], verify=verify, facets=documents.get("facets"),
                                      default_language=vectorizer.default_language)
    catalog.set_aliases(check_stored_aliases(documents.get("aliases", [])))  # saved only when some are declared
    shape = (len(catalog), len(terms))
    vectors = _csr(arrays, "vectors", shape, verify)
    postings = _csr(arrays, "postings", shape[::-1], verify)
    if verify:
        checks.check_vectors(vectors, postings)
    mass, last = arrays["popularity_mass"], arrays["popularity_last"]
    if mass.shape != (shape[0], 4) or last.shape != (shape[0],):
        raise ValueError(f"popularity arrays have shapes {mass.shape} and {last.shape} for {shape[0]} articles")
    if verify:
        checks.check_popularity(mass, last)
    pending = _pending(documents["pending_reactions"])
    checks.check_counts(manifest.get("counts", {}), articles=shape[0], terms=shape[1], nnz=vectors.nnz,
                        pending=len(pending), configured=manifest["config"].get("neighbours"))
    profiles = None
    m = manifest.get("counts", {}).get("neighbours", 0)  # 0 in models saved before profiles existed
    if m:
        kth, norms, outside = arrays["profile_kth"], arrays["profile_norms"], arrays["profile_outside"]
        if not kth.shape == norms.shape == outside.shape == (shape[0],):
            raise ValueError(f"profile arrays have shapes {kth.shape}, {norms.shape} and {outside.shape} "
                             f"for {shape[0]} articles")
        square = (shape[0], shape[0])
        rows, profile_postings = _csr(arrays, "profiles", square, verify), _csr(arrays, "profile_postings", square, verify)
        config = manifest["config"]
        profiles = NeighbourProfiles(rows, m, profile_postings, kth, norms, outside,
                                     core=config.get("core_neighbours", RelatedOptions.LEGACY["core_neighbours"]),
                                     core_weight=config.get("core_weight", RelatedOptions.LEGACY["core_weight"]))
        if verify:
            checks.check_profile_values(kth, norms, outside)
            _check_profiles(profiles, rows, profile_postings, manifest["config"].get("neighbours"))
    purged = arrays.get("purged_id_hashes", np.zeros(0, dtype=np.uint64))  # saved only after a purge
    if purged.dtype != np.uint64 or purged.ndim != 1:
        raise ValueError(f"purged id hashes have dtype {purged.dtype} and {purged.ndim} dimensions")
    try:
        rules = rules_from_json(documents.get("editorial", {}))  # none in models saved before editorial rules
    except InvalidOptionError as error:
        raise ValueError(f"editorial rules: {error}") from None
    return ModelState(vectorizer, CosineIndex(vectors, postings), catalog,
                      PopularityState.from_arrays(popularity, mass, last), profiles, pending,
                      Growth(**documents.get("growth", {"fitted": shape[0]})), purged=frozenset(purged.tolist()),
                      rules=rules, time_locality=_locality(manifest.get("time_locality")))


def _locality(saved: Any) -> Locality | None:
    """The fit's time locality (``None`` in models saved before it was measured)."""
    if saved is None:
        return None
    if not isinstance(saved, dict) or set(saved) != set(Locality._fields):
        raise ValueError(f"time_locality must hold {', '.join(Locality._fields)}")
    values = [saved[name] for name in Locality._fields]
    if not all(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
               for value in values):
        raise ValueError("time_locality holds a value that is not a finite number")
    return Locality(*(int(v) if name == "links" else float(v) for name, v in zip(Locality._fields, values)))


def _pending(entries: Any) -> tuple[Reaction, ...]:
    """Reactions waiting for their article, validated as when they were recorded."""
    if not isinstance(entries, list) or len(entries) > MAX_PENDING_REACTIONS:
        raise ValueError(f"pending reactions are not a list of at most {MAX_PENDING_REACTIONS:,}")
    pending = []
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 4:
            raise ValueError("a pending reaction is not [article_id, reaction, count, at]")
        article_id, reaction, count, at = entry
        if not (isinstance(article_id, str) and isinstance(reaction, str) and (at is None or isinstance(at, str))):
            raise ValueError("a pending reaction has fields of the wrong type")
        pending.append(to_reaction({"article_id": article_id, "reaction": reaction, "count": count, "at": at}))
    return tuple(pending)


def _check_profiles(profiles: NeighbourProfiles, rows: sp.csr_matrix, postings: sp.csr_matrix, configured: Any) -> None:
    """The profiles agree with themselves: the score bounds of the batch path rely on it."""
    derived = NeighbourProfiles(rows, profiles.m, postings)  # m-th cosines and norms recomputed from the rows
    own = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)) == rows.indices
    problems = [
        (configured != profiles.m, f"profile length {profiles.m} but the model's neighbours option is {configured!r}"),
        (int(np.diff(rows.indptr).max(initial=0)) > profiles.m, f"a profile holds more than {profiles.m} articles"),
        (bool(own.any()), "a profile holds its own article"),
        (rows.nnz and not (rows.data.min() > 0 and rows.data.max() <= 1.0001), "profile cosines outside (0, 1]"),
        (not np.allclose(derived.norms, profiles.norms, rtol=1e-5), "profile norms do not match the profiles"),
        (bool((profiles.kth < derived.kth - 1e-6).any()), "profile m-th cosines below the profiles' own"),
        (postings.nnz != rows.nnz or (postings != rows.T).nnz > 0, "profile postings are not the transpose of the "
                                                                   "profiles"),
    ]
    for failed, message in problems:
        if failed:
            raise ValueError(message)


def _csr(arrays: dict[str, np.ndarray], prefix: str, shape: tuple[int, int], verify: bool) -> sp.csr_matrix:
    data, indices, indptr = (arrays[f"{prefix}_{part}"] for part in ("data", "indices", "indptr"))
    checks.check_csr(prefix, data, indices, indptr, shape, verify)
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    matrix.has_sorted_indices = True
    return matrix
