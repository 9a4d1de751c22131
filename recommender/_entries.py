"""Entries of the shared update log: updates as JSON values, and their replay on a state.

An entry is ``(kind, payload)``: ``"articles"`` (new articles, bodies included),
``"reactions"`` (reaction records and the ``now`` they were checked against), ``"removals"``
(unpublished ids), ``"aliases"`` (``[alias, canonical]`` pairs, see :mod:`recommender._aliases`) or
``"rules"`` (one editorial change: a block, a pin, their removal, or new eligibility rules; see
:mod:`recommender._rules`). :func:`apply_entry` replays one on a
:class:`~recommender._state.ModelState` through the same transitions a direct update uses; a writer
builds its own new state by replaying the entry it logs, so every process that replays the log
reaches the same state. :func:`redacted` takes purged ids out of a payload (:mod:`recommender.purge`).

Pure computation: JSON values and states in, states out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ._aliases import with_aliases
from ._articles import Article
from ._reactions import Reaction
from ._rules import changed_rules
from ._state import ModelState, ReactionPolicy, with_articles, with_reactions, with_rules, without_articles
from .exceptions import RecommenderError

__all__ = ["KINDS", "aliases_entry", "apply_entry", "articles_entry", "carries_nothing", "named_ids", "reactions_entry", "redacted",
           "removals_entry", "replay", "rule_entry"]

KINDS = ("articles", "reactions", "removals", "aliases", "rules")


def articles_entry(articles: Sequence[Article]) -> dict[str, Any]:
    """The payload of an ``"articles"`` entry (validated articles)."""
    return {"articles": [[a.id, a.title, a.body, a.published_at.isoformat(), a.section, a.url, list(a.tags),
                          a.language, list(a.flags)] for a in articles]}


def reactions_entry(records: Sequence[Reaction], now: float) -> dict[str, Any]:
    """The payload of a ``"reactions"`` entry (validated records, checked against epoch ``now``)."""
    return {"now": float(now), "reactions": [[r.article_id, r.reaction, r.count, None if r.at is None else r.at.isoformat()]
                                             for r in records]}


def aliases_entry(aliases: dict[str, str]) -> dict[str, Any]:
    """The payload of an ``"aliases"`` entry (``{alias: canonical}``)."""
    return {"aliases": [[alias, canonical] for alias, canonical in aliases.items()]}


def removals_entry(article_ids: Sequence[str]) -> dict[str, Any]:
    """The payload of a ``"removals"`` entry."""
    return {"ids": list(article_ids)}


def rule_entry(action: str, **arguments: Any) -> dict[str, Any]:
    """The payload of a ``"rules"`` entry: ``action`` (one of :data:`recommender._rules.RULE_ACTIONS`) and its
    arguments (``item``, ``under``, ``position``; ``rules`` for ``"eligibility"``)."""
    return {"action": action, **arguments}


_RECORDS = {  # per kind: the payload's list of records, and the ids one record names
    "articles": ("articles", lambda record: (record[0],)),
    "reactions": ("reactions", lambda record: (record[0],)),
    "removals": ("ids", lambda record: (record,)),
    "aliases": ("aliases", tuple),
    "rules": (None, None),  # editorial rules name ids only, no article text: a purge keeps them (docs/editorial.md)
}


def _records_of(kind: str) -> tuple[str, Any]:
    try:
        return _RECORDS[kind]
    except KeyError:
        raise ValueError(f"unknown update kind {kind!r}; kinds are {KINDS}") from None


def carries_nothing(kind: str, payload: dict[str, Any]) -> bool:
    """Whether an entry's payload lists no records (no articles, reactions, ids or aliases):
    it would change nothing."""
    key, _ = _records_of(kind)
    return key is not None and not payload[key]


def named_ids(kind: str, payload: dict[str, Any]) -> set[str]:
    """Every article id an entry's payload names."""
    key, names = _records_of(kind)
    if key is None:
        return set()
    return {article_id for record in payload[key] for article_id in names(record)}


def redacted(kind: str, payload: dict[str, Any], article_ids: set[str]) -> tuple[dict[str, Any] | None, int]:
    """``payload`` without the records that name ``article_ids`` (a purge), and how many were
    dropped; ``None`` when nothing is left of it (the entry is deleted)."""
    key, names = _records_of(kind)
    if key is None:
        return payload, 0
    kept = [record for record in payload[key] if not article_ids.intersection(names(record))]
    dropped = len(payload[key]) - len(kept)
    if not dropped:
        return payload, 0
    return ({**payload, key: kept} if kept else None), dropped


def replay(state: ModelState, entries: Iterable[tuple[int, str, dict[str, Any]]], policy: ReactionPolicy,
           on_skip: Callable[[int, str, Exception], None] | None = None) -> ModelState:
    """``state`` with the log ``entries`` after its position applied in order; an entry that
    does not apply (a refit version that already holds an article the log adds) is skipped,
    the same way by every process, and reported to ``on_skip``."""
    for position, kind, payload in entries:
        if position <= state.log_position:
            continue
        try:
            state = apply_entry(state, position, kind, payload, policy)
        except (RecommenderError, ValueError) as error:
            if on_skip is not None:
                on_skip(position, kind, error)
            state = replace(state, log_position=position)
    return state


def apply_entry(state: ModelState, position: int, kind: str, payload: dict[str, Any],
                policy: ReactionPolicy) -> ModelState:
    """``state`` with the logged update at ``position`` applied (raises as the transition does)."""
    return replace(_applied(state, kind, payload, policy), log_position=int(position))


def _applied(state: ModelState, kind: str, payload: dict[str, Any], policy: ReactionPolicy) -> ModelState:
    if kind == "articles":
        # entries logged before flags existed have eight fields
        articles = [Article(i, title, body, datetime.fromisoformat(published), section, url, tuple(tags), language,
                            tuple(flags[0]) if flags else ())
                    for i, title, body, published, section, url, tags, language, *flags in payload["articles"]]
        return with_articles(state, articles, policy)[0]
    if kind == "reactions":
        records = [Reaction(i, reaction, count, None if at is None else datetime.fromisoformat(at))
                   for i, reaction, count, at in payload["reactions"]]
        return with_reactions(state, records, policy, payload["now"])[0]
    if kind == "removals":
        return without_articles(state, payload["ids"])
    if kind == "aliases":
        return with_aliases(state, [tuple(pair) for pair in payload["aliases"]])
    if kind == "rules":
        return with_rules(state, changed_rules(state.rules, payload))
    raise ValueError(f"unknown update kind {kind!r}; kinds are {KINDS}")
