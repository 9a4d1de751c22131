"""Purging articles from a fitted state: every row, term and reaction that holds them.

How it works
------------
:func:`~recommender._state.without_articles` *unpublishes*: the ids leave every list, but the
rows stay in the matrices (no rebuild) and the text stays in the catalogue. A purge (a legal
takedown) must leave nothing, so :func:`purged` builds a state in which the articles never
existed as rows:

* every row holding a purged id (the live one and any unpublished copies) is dropped from the
  catalogue (id, title, url, tags), the TF-IDF matrix and its postings, the neighbour
  profiles and the popularity arrays; the other rows are renumbered in order;
* other articles' neighbour profiles lose their entries for the purged rows. Their m-th
  cosines stay as they were: still an upper bound on the cosine of any article outside the
  profile, which is all the exact Related search relies on, so lists stay exact;
* terms that only the purged rows held leave the vocabulary (a name that appeared in one
  takedown article would otherwise stay in ``terms.json``); the other terms keep their IDF;
* reactions waiting for a purged id, and aliases naming one, are dropped; purging a
  canonical id purges its aliases too (one story, every id it was published under);
* the state keeps the 64-bit hash of each purged id (the catalogue's id hash, no text), so
  that reactions arriving later from pages still open in readers' browsers are dropped
  instead of waiting for the article; adding an article under that id again lifts it.

The IDF weights of the remaining terms were computed with the purged articles counted, as
numbers only; a refit on the remaining articles recomputes them.

Pure computation: states in, states out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ._catalog import Catalog, StringColumn, id_hash
from ._index import CosineIndex
from ._popularity import PopularityState
from ._profiles import NeighbourProfiles, _norm
from ._state import ModelState
from ._vectorize import TextVectorizer

__all__ = ["PurgeCounts", "purged", "traces", "with_aliases_of"]


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """What a purge removed from one state."""

    rows: int = 0
    terms: int = 0
    profile_entries: int = 0
    pending_reactions: int = 0
    aliases: int = 0

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


def traces(state: ModelState, article_ids: Iterable[str]) -> set[str]:
    """Those of ``article_ids`` the state holds anywhere: a row (live or unpublished), a
    waiting reaction or an alias."""
    wanted = set(article_ids)
    found = wanted.intersection(state.catalog.ids())
    found |= wanted.intersection(r.article_id for r in state.pending)
    aliases = state.catalog.aliases
    found |= wanted.intersection(aliases) | wanted.intersection(aliases.values())
    return found


def with_aliases_of(state: ModelState, article_ids: Iterable[str]) -> set[str]:
    """``article_ids`` and the aliases of those that are canonical ids: one story, all its ids."""
    wanted = set(article_ids)
    return wanted | {alias for alias, canonical in state.catalog.aliases.items() if canonical in wanted}


def purged(state: ModelState, article_ids: Iterable[str]) -> tuple[ModelState, PurgeCounts]:
    """``state`` without any trace of ``article_ids`` or of their aliases (ids it does not hold
    are ignored; see :func:`traces` to check first)."""
    gone = with_aliases_of(state, article_ids)
    catalog = state.catalog
    drop = np.fromiter((article_id in gone for article_id in catalog.ids()), dtype=bool, count=len(catalog))
    keep = np.flatnonzero(~drop)
    vectors = state.index.vectors
    dropped_rows = np.flatnonzero(drop)
    term_keep = _terms_kept(vectors, keep, dropped_rows)
    profiles, entries = (None, 0) if state.profiles is None else _profiles(state.profiles, keep, drop)
    pending = tuple(r for r in state.pending if r.article_id not in gone)
    aliases = {alias: canonical for alias, canonical in catalog.aliases.items()
               if alias not in gone and canonical not in gone}
    new_state = replace(
        state,
        vectorizer=_vectorizer(state.vectorizer, term_keep) if not term_keep.all() else state.vectorizer,
        index=CosineIndex(_select(vectors, keep, term_keep)),
        catalog=_catalog(catalog, keep, aliases),
        popularity=PopularityState.from_arrays(state.popularity.config, state.popularity.mass[keep],
                                               state.popularity.last[keep]),
        profiles=profiles, pending=pending, purged=state.purged | {id_hash(article_id) for article_id in gone})
    counts = PurgeCounts(rows=len(dropped_rows), terms=int((~term_keep).sum()), profile_entries=entries,
                         pending_reactions=len(state.pending) - len(pending),
                         aliases=len(catalog.aliases) - len(aliases))
    return new_state, counts


def _terms_kept(vectors: sp.csr_matrix, keep: np.ndarray, dropped: np.ndarray) -> np.ndarray:
    """Mask of the terms to keep: all but those only ``dropped`` rows hold."""
    n_terms = vectors.shape[1]
    held_by_kept = np.bincount(vectors[keep].indices, minlength=n_terms) > 0
    held_by_dropped = np.bincount(vectors[dropped].indices, minlength=n_terms) > 0
    return held_by_kept | ~held_by_dropped


def _select(matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> sp.csr_matrix:
    """``matrix[rows][:, columns]`` (a row list and a column mask) with its dtypes kept."""
    selected = sp.csr_matrix(matrix[rows][:, columns])
    selected.sort_indices()
    selected.indices = selected.indices.astype(matrix.indices.dtype, copy=False)
    selected.indptr = selected.indptr.astype(matrix.indptr.dtype, copy=False)
    selected.data = selected.data.astype(matrix.data.dtype, copy=False)
    return selected


def _vectorizer(vectorizer: TextVectorizer, term_keep: np.ndarray) -> TextVectorizer:
    return TextVectorizer.from_state(vectorizer.get_params(), vectorizer.terms_[term_keep],
                                     vectorizer.idf_[term_keep], vectorizer.display_terms_[term_keep])


def _profiles(profiles: NeighbourProfiles, keep: np.ndarray, drop: np.ndarray) -> tuple[NeighbourProfiles, int]:
    """Profiles over the kept rows; entries for dropped rows removed, norms recomputed for the
    profiles that lost one, m-th cosines kept (an upper bound still)."""
    rows = profiles.rows
    kept = _select(rows, keep, ~drop)
    lost = np.diff(rows[keep].indptr) - np.diff(kept.indptr)
    norms = profiles.norms[keep].copy()
    for row in np.flatnonzero(lost).tolist():
        norms[row] = _norm(kept.data[kept.indptr[row]:kept.indptr[row + 1]])
    smaller = NeighbourProfiles(kept, profiles.m, kth=profiles.kth[keep], norms=norms,
                                outside=profiles.outside[keep], core=profiles.core,
                                core_weight=float(profiles.core_weight))
    return smaller, int(lost.sum())


def _catalog(catalog: Catalog, keep: np.ndarray, aliases: dict[str, str]) -> Catalog:
    """A catalogue of the kept rows, in order, with their unpublished flags and ``aliases``
    (its arrays selected, not rebuilt record by record)."""
    arrays, sections = catalog.to_arrays()
    n = len(catalog)
    new_row = np.full(n, -1, dtype=np.int64)
    new_row[keep] = np.arange(len(keep))
    for name in ("ids", "titles", "details"):
        column = StringColumn(arrays[f"catalog_{name}_blob"], arrays[f"catalog_{name}_offsets"])
        kept = StringColumn.of(column.take(keep))
        arrays[f"catalog_{name}_blob"], arrays[f"catalog_{name}_offsets"] = kept.blob, kept.offsets
    held = new_row[arrays["catalog_id_rows"]] >= 0  # the hashes stay sorted: a subset of a sorted array
    arrays["catalog_id_hashes"] = arrays["catalog_id_hashes"][held]
    arrays["catalog_id_rows"] = new_row[arrays["catalog_id_rows"][held]]
    order = arrays["catalog_by_published"]
    arrays["catalog_by_published"] = new_row[order[new_row[order] >= 0]]
    for name in ("catalog_sections", "catalog_published", "removed", "catalog_languages", "catalog_flags"):
        if name in arrays:
            arrays[name] = arrays[name][keep]
    rebuilt = Catalog.from_arrays(arrays, sections, verify=False, facets=catalog.facet_names())
    rebuilt.set_aliases(aliases)
    return rebuilt
