"""Which rows a list may show at ``now``: embargoes, blocks and eligibility rules as row masks.

How it works
------------
Every list call asks :func:`hidden_rows` for one boolean mask over the catalogue's rows (or
``None`` when nothing is hidden, the common case, which costs one comparison):

* **embargo**: rows published after ``now`` (found by binary search in the catalogue's
  publication order, so a site without scheduled articles pays nothing);
* **blocks**: the model's :class:`~recommender._rules.EditorialRules` blocked everywhere, and
  under the list's article;
* **eligibility**: the rules for this list (and this reader), each evaluated once per
  catalogue as a mask over every row and cached; rules comparing with the list's article
  (``$article``) are cached per value (one mask per language or section).

The list builders treat the mask like the section and age filters: a masked row is never a
candidate, and the Related search's score bounds stay exact. Pins are not a mask: the Related
list places them after the search (:func:`pinned_rows` lists those that may show).

Pure computation: catalogue arrays and rules in, masks out.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ._catalog import Catalog
from ._rules import BOOLEAN_FLAGS, EditorialRules, EligibilityRule
from ._state import ModelState
from .exceptions import EmbargoedArticleError

__all__ = ["check_published", "hidden_rows", "pinned_rows", "scheduled_after", "valid_until", "with_pins"]

_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # catalog -> _Masks


def scheduled_after(catalog: Catalog, now: float) -> np.ndarray:
    """Rows published after ``now`` (epoch seconds): scheduled, not public yet."""
    return catalog.published_between(np.floor(now) + 1, np.inf) if len(catalog) else np.empty(0, dtype=np.int64)


def valid_until(catalog: Catalog, now: float) -> int | None:
    """The earliest publication time (epoch seconds) after ``now`` of a live article: lists
    computed at ``now`` stay valid until then; ``None`` when nothing is scheduled."""
    rows = scheduled_after(catalog, now)
    rows = rows[~catalog.removed[rows]]
    return int(catalog.published[rows].min()) if len(rows) else None


def check_published(catalog: Catalog, row: int, now: float, article_id: str, preview: bool) -> None:
    """Raise :class:`EmbargoedArticleError` when ``row`` is published after ``now``, unless ``preview``."""
    if not preview and catalog.published[row] > now:
        raise EmbargoedArticleError(article_id, int(catalog.published[row]))


class _Masks:
    """Masks of one (catalogue, rules) pair, filled on first use."""

    def __init__(self, catalog: Catalog, rules: EditorialRules) -> None:
        self.catalog, self.rules = catalog, rules
        self.blocked = None
        if rules.blocked:
            self.blocked = np.zeros(len(catalog), dtype=bool)
            self.blocked[catalog.known_rows(rules.blocked)] = True
        self._rule_masks: dict[Any, np.ndarray] = {}

    def failing(self, rule: EligibilityRule, article_row: int | None) -> np.ndarray | None:
        """Rows that do not meet ``rule`` (``None``: a relative rule without an article)."""
        catalog = self.catalog
        if rule.relative:
            if article_row is None:
                return None
            codes = catalog.section_codes if rule.field == "section" else catalog.language_codes
            key = (rule, int(codes[article_row]))
            if key not in self._rule_masks:
                same = codes == codes[article_row]
                self._rule_masks[key] = ~same if rule.op == "equals" else same
            return self._rule_masks[key]
        if rule not in self._rule_masks:
            self._rule_masks[rule] = _failing(catalog, rule)
        return self._rule_masks[rule]


def _failing(catalog: Catalog, rule: EligibilityRule) -> np.ndarray:
    """Rows that do not meet a rule that does not depend on the list's article."""
    values = rule.value if isinstance(rule.value, tuple) else (rule.value,)
    if rule.field in BOOLEAN_FLAGS:
        has = (catalog.flag_bits & np.uint32(catalog.flag_mask(rule.field))) != 0
        return has != rule.value if rule.op == "equals" else has == rule.value
    if rule.field in ("section", "language"):
        codes = catalog.section_codes if rule.field == "section" else catalog.language_codes
        code_of = catalog.section_code if rule.field == "section" else catalog.language_code
        has = np.isin(codes, [code_of(value) for value in values])
    elif rule.field == "flags":
        bits = 0
        for value in values:
            bits |= catalog.flag_mask(value)
        has = (catalog.flag_bits & np.uint32(bits)) != 0
    else:  # tags: one pass over the rows' tags, once per catalogue and rule
        wanted = set(values)
        has = np.fromiter((not wanted.isdisjoint(catalog.record(row)["tags"]) for row in range(len(catalog))),
                          dtype=bool, count=len(catalog))
    return has if rule.op == "not" else ~has


def _masks(catalog: Catalog, rules: EditorialRules) -> _Masks:
    masks = _caches.get(catalog)
    if masks is None or masks.rules is not rules:
        masks = _caches[catalog] = _Masks(catalog, rules)
    return masks


def hidden_rows(state: ModelState, list_name: str, now: float, *, article_id: str | None = None,
                article_row: int | None = None, signed_in: bool = False) -> np.ndarray | None:
    """Rows list ``list_name`` may not show at ``now`` (boolean over every row), or ``None``
    when it may show every row (removed rows are masked by the list builders themselves).

    ``article_id``/``article_row``: the article the list is for (blocks under it, ``$article``
    rules); ``signed_in``: skip the rules for anonymous readers.
    """
    catalog, rules = state.catalog, state.rules
    parts = []
    scheduled = scheduled_after(catalog, now)
    if rules:
        masks = _masks(catalog, rules)
        if masks.blocked is not None:
            parts.append(masks.blocked)
        for rule in rules.eligibility:
            if rule.list == list_name and not (signed_in and rule.readers == "anonymous"):
                failing = masks.failing(rule, article_row)
                if failing is not None:
                    parts.append(failing)
    under = rules.blocked_under.get(article_id) if article_id is not None else None
    if not parts and not len(scheduled) and not under:
        return None
    hidden = np.zeros(len(catalog), dtype=bool) if not parts else parts[0].copy()
    for part in parts[1:]:
        hidden |= part
    hidden[scheduled] = True
    if under:
        hidden[catalog.known_rows(under)] = True
    return hidden


def pinned_rows(state: ModelState, article_id: str, now: float) -> list[tuple[int, int]]:
    """``(row, position)`` of the pins in ``article_id``'s Related list that may show at
    ``now``: held, published, and blocked neither everywhere nor under the article (a block
    beats a pin; a pin beats the eligibility rules)."""
    rules, catalog = state.rules, state.catalog
    pins = rules.pins.get(article_id, ())
    if not pins:
        return []
    blocked = rules.blocked | rules.blocked_under.get(article_id, frozenset())
    shown = []
    for item, position in pins:
        found = catalog.known_rows([item])
        if len(found) and item not in blocked and catalog.published[found[0]] <= now:
            shown.append((int(found[0]), position))
    return shown


def with_pins(hits: list[tuple[int, float]], pins: list[tuple[int, int, float]], k: int) -> list[tuple[int, float]]:
    """A Related list of ``k`` with ``pins`` (``(row, position, score)``, position 1-based) placed:
    the pins in position order, each at its position or, past the list's end, at the end; the
    searched ``hits`` (which hold no pinned row) fill the other places, best first."""
    pins = sorted(pins, key=lambda pin: (pin[1], pin[0]))[:k]
    placed = list(hits[:k - len(pins)])
    for row, position, score in pins:
        placed.insert(min(position - 1, len(placed)), (row, score))
    return placed
