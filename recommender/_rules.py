"""Editorial rules: blocks, pins and eligibility rules, as plain validated data.

How it works
------------
:class:`EditorialRules` is what an editor decided about the lists, by article id (never by
row, so the rules outlive a refit and an article that arrives after its rule):

* **block** an item everywhere (a legal takedown) or under one article only;
* **pin** an item at a position of one article's Related list;
* **eligibility rules** (:class:`EligibilityRule`): declarative requirements an item must
  meet to appear in a list, over the article fields ``section``, ``tags``, ``language``,
  ``flags`` and the boolean flags of :data:`BOOLEAN_FLAGS`.

Precedence, from strongest: block > pin > eligibility > score (``docs/editorial.md``). Rules
change by pure transitions (:meth:`EditorialRules.blocking`, :meth:`~EditorialRules.pinning`,
...) that validate in full and return a new object; :func:`rules_from_json` reads the JSON
form a model saves and the update log carries, with the same checks.

Pure computation: values in, values out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .exceptions import InvalidOptionError

__all__ = ["ARTICLE", "BOOLEAN_FLAGS", "FIELDS", "LISTS", "OPS", "RULE_ACTIONS", "EditorialRules", "EligibilityRule",
           "changed_rules", "rules_from_json"]

LISTS = ("related", "ranking", "recommendation")
"""The lists a rule may govern."""

FIELDS = ("section", "tags", "language", "flags")
"""Article fields an eligibility rule may test (besides the boolean flags)."""

BOOLEAN_FLAGS = ("paywalled", "sponsored", "opinion")
"""Flags a rule may also name as a boolean field: ``{"field": "paywalled", "value": False}``."""

OPS = ("equals", "in", "not")
"""``equals`` one value, ``in`` a list of values, ``not``: neither the value nor any value of a list."""

ARTICLE = "$article"
"""A rule value meaning "the value of the article the list is for" (``language`` equals ``$article``:
the same language only). A list without such an article (Ranking, a home-page Recommendation)
skips the rule."""

READERS = ("all", "anonymous")

RULE_ACTIONS = ("block", "unblock", "pin", "unpin", "eligibility")
"""Editorial changes, each a method of :class:`EditorialRules` (the update log's ``"rules"`` entries)."""

MAX_ID_CHARS = 256
MAX_RULES = 1_000
"""Most rules of each kind a model holds (blocks, pins, eligibility rules)."""


def _check_id(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or not value.isprintable() or len(value) > MAX_ID_CHARS:
        raise InvalidOptionError(f"{name} must be an article id (1-{MAX_ID_CHARS} printable characters), got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class EligibilityRule:
    """A requirement an item must meet to appear in a list.

    Parameters
    ----------
    list : {"related", "ranking", "recommendation"}
    field : str
        One of :data:`FIELDS` or :data:`BOOLEAN_FLAGS`.
    op : {"equals", "in", "not"}, default="equals"
        On ``tags`` and ``flags`` (sets): ``equals`` the item holds the value, ``in`` it holds
        one of the values, ``not`` it holds none of them.
    value : str, bool, list of str, or "$article"
        ``True``/``False`` for a boolean flag; a list for ``in`` (and optionally ``not``).
    readers : {"all", "anonymous"}, default="all"
        ``"anonymous"``: the rule applies only when the call does not say the reader is
        signed in (``signed_in=False``, the default).

    Examples
    --------
    >>> EligibilityRule("recommendation", "paywalled", "equals", False, readers="anonymous").to_json()["field"]
    'paywalled'
    """

    list: str
    field: str
    op: str = "equals"
    value: Any = None
    readers: str = "all"

    def __post_init__(self) -> None:
        if self.list not in LISTS:
            raise InvalidOptionError(f"rule list must be one of {LISTS}, got {self.list!r}")
        if self.field not in FIELDS and self.field not in BOOLEAN_FLAGS:
            raise InvalidOptionError(f"unknown rule field {self.field!r}; fields are {FIELDS + BOOLEAN_FLAGS}")
        if self.op not in OPS:
            raise InvalidOptionError(f"rule op must be one of {OPS}, got {self.op!r}")
        if self.readers not in READERS:
            raise InvalidOptionError(f"rule readers must be one of {READERS}, got {self.readers!r}")
        value = self.value
        if self.field in BOOLEAN_FLAGS:
            if self.op == "in" or not isinstance(value, bool):
                raise InvalidOptionError(f"rule on {self.field!r} needs op 'equals' or 'not' and value True or False, "
                                         f"got {self.op!r} {value!r}")
            return
        if isinstance(value, (list, tuple)):
            if self.op == "equals" or not value or not all(isinstance(v, str) for v in value):
                raise InvalidOptionError(f"rule on {self.field!r}: a list value needs op 'in' or 'not' and holds "
                                         f"strings, got {self.op!r} {value!r}")
            object.__setattr__(self, "value", tuple(value))
        elif not isinstance(value, str) or self.op == "in":
            raise InvalidOptionError(f"rule on {self.field!r}: op {self.op!r} needs "
                                     f"{'a list of strings' if self.op == 'in' else 'a string'}, got {value!r}")
        if value == ARTICLE and self.field not in ("section", "language"):
            raise InvalidOptionError(f"{ARTICLE!r} compares a single-valued field (section, language), not {self.field!r}")

    @property
    def relative(self) -> bool:
        """Whether the rule compares with the list's own article (``$article``)."""
        return self.value == ARTICLE

    def to_json(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"list": self.list, "field": self.field, "op": self.op, "value": value, "readers": self.readers}


@dataclass(frozen=True, slots=True)
class EditorialRules:
    """What editors decided about the lists; empty by default, replaced as a whole.

    Parameters
    ----------
    blocked : frozenset of str
        Items that appear in no list.
    blocked_under : mapping of str to frozenset of str
        Article id -> items that appear in none of that article's lists.
    pins : mapping of str to tuple of (str, int)
        Article id -> ``(item, position)`` pairs, position 1-based, in its Related list.
    eligibility : tuple of EligibilityRule
    """

    blocked: frozenset = frozenset()
    blocked_under: Mapping[str, frozenset] = field(default_factory=dict)
    pins: Mapping[str, tuple] = field(default_factory=dict)
    eligibility: tuple = ()

    def __bool__(self) -> bool:
        return bool(self.blocked or self.blocked_under or self.pins or self.eligibility)

    # -- transitions: each validates, then returns a new object -------------------------------
    def blocking(self, item: Any, under: Any = None) -> EditorialRules:
        """These rules with ``item`` blocked everywhere, or under article ``under`` only."""
        item = _check_id(item, "item")
        if under is None:
            self._check_room(len(self.blocked) + 1, "blocks")
            return replace(self, blocked=self.blocked | {item})
        under = _check_id(under, "under")
        if item == under:
            raise InvalidOptionError(f"cannot block article {item!r} under itself: no list of an article holds "
                                     f"the article; block it everywhere with under=None")
        self._check_room(sum(map(len, self.blocked_under.values())) + 1, "blocks")
        return replace(self, blocked_under={**self.blocked_under, under: self.blocked_under.get(under, frozenset()) | {item}})

    def unblocking(self, item: Any, under: Any = None) -> EditorialRules:
        """These rules without that block (a block that does not exist is a no-op)."""
        item = _check_id(item, "item")
        if under is None:
            return replace(self, blocked=self.blocked - {item})
        under = _check_id(under, "under")
        left = self.blocked_under.get(under, frozenset()) - {item}
        blocked_under = {key: items for key, items in self.blocked_under.items() if key != under}
        if left:
            blocked_under[under] = left
        return replace(self, blocked_under=blocked_under)

    def pinning(self, item: Any, under: Any, position: Any) -> EditorialRules:
        """These rules with ``item`` pinned at 1-based ``position`` of ``under``'s Related list
        (replacing an earlier pin of that item there)."""
        item, under = _check_id(item, "item"), _check_id(under, "under")
        if item == under:
            raise InvalidOptionError(f"cannot pin article {item!r} in its own Related list")
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise InvalidOptionError(f"position must be a positive integer (1 is the top), got {position!r}")
        pins = tuple(pin for pin in self.pins.get(under, ()) if pin[0] != item) + ((item, position),)
        self._check_room(sum(map(len, self.pins.values())) + 1, "pins")
        return replace(self, pins={**self.pins, under: tuple(sorted(pins, key=lambda pin: (pin[1], pin[0])))})

    def unpinning(self, item: Any, under: Any) -> EditorialRules:
        """These rules without that pin (a pin that does not exist is a no-op)."""
        item, under = _check_id(item, "item"), _check_id(under, "under")
        left = tuple(pin for pin in self.pins.get(under, ()) if pin[0] != item)
        pins = {key: value for key, value in self.pins.items() if key != under}
        if left:
            pins[under] = left
        return replace(self, pins=pins)

    def with_eligibility(self, rules: Any) -> EditorialRules:
        """These rules with the eligibility rules replaced by ``rules`` (rules or their JSON form)."""
        if isinstance(rules, (str, bytes, Mapping)):
            raise InvalidOptionError("eligibility rules must be a list of rules")
        parsed = tuple(rule if isinstance(rule, EligibilityRule) else _rule_of(rule) for rule in rules)
        self._check_room(len(parsed), "eligibility rules")
        return replace(self, eligibility=parsed)

    @staticmethod
    def _check_room(count: int, what: str) -> None:
        if count > MAX_RULES:
            raise InvalidOptionError(f"{count:,} {what} is above the limit of {MAX_RULES:,}")

    # -- JSON -----------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The rules as JSON values (sorted: the same rules give the same text)."""
        return {"blocked": sorted(self.blocked),
                "blocked_under": {key: sorted(items) for key, items in sorted(self.blocked_under.items())},
                "pins": {key: [list(pin) for pin in pins] for key, pins in sorted(self.pins.items())},
                "eligibility": [rule.to_json() for rule in self.eligibility]}


def _rule_of(value: Any) -> EligibilityRule:
    if not isinstance(value, Mapping):
        raise InvalidOptionError(f"an eligibility rule is a mapping with list, field, op, value; got {value!r}")
    unknown = set(value) - {"list", "field", "op", "value", "readers"}
    if unknown or "list" not in value or "field" not in value:
        raise InvalidOptionError(f"an eligibility rule has keys list, field, op, value, readers; got {sorted(value)}")
    return EligibilityRule(**value)


def changed_rules(rules: EditorialRules, payload: dict[str, Any]) -> EditorialRules:
    """``rules`` with the change ``payload`` describes: ``action`` (one of :data:`RULE_ACTIONS`)
    and its arguments (validated; raises :class:`~recommender.InvalidOptionError` as the rule
    methods do)."""
    action = payload.get("action")
    if action == "block":
        return rules.blocking(payload["item"], payload.get("under"))
    if action == "unblock":
        return rules.unblocking(payload["item"], payload.get("under"))
    if action == "pin":
        return rules.pinning(payload["item"], payload["under"], payload["position"])
    if action == "unpin":
        return rules.unpinning(payload["item"], payload["under"])
    if action == "eligibility":
        return rules.with_eligibility(payload["rules"])
    raise InvalidOptionError(f"unknown rules action {action!r}; actions are {RULE_ACTIONS}")


def rules_from_json(document: Any) -> EditorialRules:
    """:class:`EditorialRules` from :meth:`EditorialRules.to_json` output, validated in full.

    Raises
    ------
    InvalidOptionError
        A malformed document, an unknown field, a pin of an article in its own list...
    """
    if not isinstance(document, Mapping) or set(document) - {"blocked", "blocked_under", "pins", "eligibility"}:
        raise InvalidOptionError("editorial rules are a mapping of blocked, blocked_under, pins, eligibility")
    rules = EditorialRules()
    for item in _list(document.get("blocked", []), "blocked"):
        rules = rules.blocking(item)
    for under, items in _mapping(document.get("blocked_under", {}), "blocked_under").items():
        for item in _list(items, "blocked_under"):
            rules = rules.blocking(item, under)
    for under, pins in _mapping(document.get("pins", {}), "pins").items():
        for pin in _list(pins, "pins"):
            if not isinstance(pin, (list, tuple)) or len(pin) != 2:
                raise InvalidOptionError(f"a pin is [item, position], got {pin!r}")
            rules = rules.pinning(pin[0], under, pin[1])
    return rules.with_eligibility(_list(document.get("eligibility", []), "eligibility"))


def _list(value: Any, name: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise InvalidOptionError(f"{name} must be a list, got {type(value).__name__}")
    return list(value)


def _mapping(value: Any, name: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise InvalidOptionError(f"{name} must be a mapping, got {type(value).__name__}")
    return value
