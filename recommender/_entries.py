"""Entries of the shared update log: updates as JSON values, and their replay on a state.

An entry is ``(kind, payload)``: ``"articles"`` (new articles, bodies included),
``"reactions"`` (reaction records and the ``now`` they were checked against), ``"removals"``
(unpublished ids) or ``"rules"`` (one editorial change: a block, a pin, their removal, or new
eligibility rules; see :mod:`recommender._rules`). :func:`apply_entry` replays one on a :class:`~recommender._state.ModelState`
through the same transitions a direct update uses; a writer builds its own new state by
replaying the entry it logs, so every process that replays the log reaches the same state.

Pure computation: JSON values and states in, states out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ._articles import Article
from ._reactions import Reaction
from ._rules import changed_rules
from ._state import ModelState, ReactionPolicy, with_articles, with_reactions, with_rules, without_articles

__all__ = ["KINDS", "apply_entry", "articles_entry", "reactions_entry", "removals_entry",
           "rule_entry"]

KINDS = ("articles", "reactions", "removals", "rules")


def articles_entry(articles: Sequence[Article]) -> dict[str, Any]:
    """The payload of an ``"articles"`` entry (validated articles)."""
    return {"articles": [[a.id, a.title, a.body, a.published_at.isoformat(), a.section, a.url, list(a.tags),
                          a.language, list(a.flags)] for a in articles]}


def reactions_entry(records: Sequence[Reaction], now: float) -> dict[str, Any]:
    """The payload of a ``"reactions"`` entry (validated records, checked against epoch ``now``)."""
    return {"now": float(now), "reactions": [[r.article_id, r.reaction, r.count, None if r.at is None else r.at.isoformat()]
                                             for r in records]}


def removals_entry(article_ids: Sequence[str]) -> dict[str, Any]:
    """The payload of a ``"removals"`` entry."""
    return {"ids": list(article_ids)}


def rule_entry(action: str, **arguments: Any) -> dict[str, Any]:
    """The payload of a ``"rules"`` entry: ``action`` (one of :data:`recommender._rules.RULE_ACTIONS`) and its
    arguments (``item``, ``under``, ``position``; ``rules`` for ``"eligibility"``)."""
    return {"action": action, **arguments}


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
    if kind == "rules":
        return with_rules(state, changed_rules(state.rules, payload))
    raise ValueError(f"unknown update kind {kind!r}; kinds are {KINDS}")
