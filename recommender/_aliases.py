"""Canonical duplicates: one story published under two ids (two sections, two URLs).

How it works
------------
An editor declares ``{alias: canonical}``. From then on:

* the alias's own row is unpublished, so lists show the canonical id only, never the alias;
* every lookup of the alias id finds the canonical article (:meth:`Catalog._find`), so a query,
  a reader's history or an exclusion by the alias answers as by the canonical id;
* reactions to the alias count for the canonical article: those recorded before the
  declaration are folded into its popularity here, later ones land on its row directly.

:func:`with_aliases` is a transition like those of :mod:`recommender._state`: the whole
mapping is checked before anything changes. Rules: both ids are held (the alias as a live
article, or already an alias of the same canonical id), an id is not its own alias, and there
are no chains: a canonical id is never itself an alias, and an alias is never the canonical id
of another alias (a cycle is a chain that comes back). Declaring the same pair again changes
nothing.

Pure computation: states in, states out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ._catalog import Catalog
from ._checks import article_id_of
from ._popularity import PopularityState
from ._state import ModelState
from .exceptions import InvalidInputError, UnknownArticleError

__all__ = ["check_aliases", "check_stored_aliases", "with_aliases"]


def check_aliases(aliases: Any) -> dict[str, str]:
    """``{alias: canonical}`` from a mapping or ``(alias, canonical)`` pairs, ids as strings."""
    if isinstance(aliases, (str, bytes)):
        raise InvalidInputError("aliases must map alias ids to canonical ids, e.g. {'a12-sport': 'a12'}")
    pairs = aliases.items() if isinstance(aliases, Mapping) else aliases
    checked: dict[str, str] = {}
    try:
        for pair in pairs:
            alias, canonical = pair
            alias, canonical = article_id_of(alias), article_id_of(canonical)
            if checked.get(alias, canonical) != canonical:
                raise InvalidInputError(f"alias {alias!r} is given two canonical ids, {checked[alias]!r} and "
                                        f"{canonical!r}", record_id=alias)
            checked[alias] = canonical
    except (TypeError, ValueError) as error:
        if isinstance(error, InvalidInputError):
            raise
        raise InvalidInputError(f"aliases must map alias ids to canonical ids ({error})") from None
    return checked


def _check(catalog: Catalog, new: dict[str, str]) -> dict[str, str]:
    """The pairs of ``new`` not declared yet; raises for any pair that breaks a rule."""
    known = catalog.aliases
    canonicals = set(known.values()) | set(new.values())
    fresh = {}
    for alias, canonical in new.items():
        if alias == canonical:
            raise InvalidInputError(f"article {alias!r} cannot be an alias of itself", record_id=alias)
        if known.get(alias) == canonical:
            continue
        if alias in known:
            raise InvalidInputError(f"{alias!r} is already an alias of {known[alias]!r}", record_id=alias)
        if canonical in known or canonical in new:
            root = known.get(canonical) or new[canonical]
            raise InvalidInputError(f"{canonical!r} is itself an alias of {root!r}: name the canonical id "
                                    f"{root!r} instead (aliases do not chain)", record_id=alias)
        if alias in canonicals:
            raise InvalidInputError(f"{alias!r} is the canonical id of other aliases; it cannot become an alias "
                                    f"(aliases do not chain)", record_id=alias)
        for article_id in (canonical, alias):
            if article_id not in catalog:
                raise UnknownArticleError(article_id)
        fresh[alias] = canonical
    return fresh


def check_stored_aliases(aliases: Any) -> dict[str, str]:
    """Aliases read from a saved model: ``[[alias, canonical], ...]`` obeying the rules
    (``ValueError`` otherwise)."""
    if not isinstance(aliases, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(i, str) for i in pair) for pair in aliases):
        raise ValueError("aliases are not a list of [alias, canonical] id pairs")
    mapping = dict((alias, canonical) for alias, canonical in aliases)
    if len(mapping) != len(aliases) or set(mapping) & set(mapping.values()):
        raise ValueError("aliases name an id twice or chain")
    return mapping


def with_aliases(state: ModelState, aliases: Mapping[str, str] | Iterable[tuple[str, str]]) -> ModelState:
    """``state`` with ``aliases`` (``{alias: canonical}``) declared.

    Raises
    ------
    UnknownArticleError
        An id the model does not hold.
    InvalidInputError
        An id aliased to itself, an alias given a second canonical id, or a chain or cycle;
        nothing is declared then.
    """
    fresh = _check(state.catalog, check_aliases(aliases))
    if not fresh:
        return state
    catalog = state.catalog.copy()
    aliases_rows = catalog.rows(fresh)
    canonical_rows = catalog.rows(fresh.values())
    catalog.remove(list(fresh))  # before the map is set: the alias rows themselves are unpublished
    catalog.set_aliases({**catalog.aliases, **fresh})
    return replace(state, catalog=catalog, popularity=_merged(state.popularity, aliases_rows, canonical_rows))


def _merged(popularity: PopularityState, sources: np.ndarray, targets: np.ndarray) -> PopularityState:
    """Popularity with each source row's reaction mass moved onto its target row."""
    merged = PopularityState.from_arrays(popularity.config, popularity.mass, popularity.last)  # copies
    for source, target in zip(sources.tolist(), targets.tolist()):
        moment = max(merged.last[source], merged.last[target])
        if moment == -np.inf:
            continue  # neither has reactions
        merged.mass[target] = merged.masses_at(np.array([source, target]), moment).sum(axis=0)
        merged.last[target] = moment
        merged.mass[source], merged.last[source] = 0.0, -np.inf
    return merged
