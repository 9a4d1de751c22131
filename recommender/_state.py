"""The fitted state of a model and the only ways it changes.

How it works
------------
:class:`ModelState` holds everything a fitted model knows: the vectoriser, the cosine index,
the neighbour profiles, the catalogue, the popularity state, reactions waiting for their
article, and how the archive grew since the fit. It is never modified once built.

A change is a *transition*: a pure function ``(state, update) -> new state`` that validates the
whole update before it builds anything, so an update is applied completely or not at all
(:func:`with_articles`, :func:`without_articles`, :func:`with_reactions`, :func:`with_rules`). The parts a
transition changes are fresh copies (the catalogue's and popularity's arrays are copied or
extended, never written in place), so a reader holding the old state keeps a consistent view.
:class:`~recommender.Recommender` publishes the new state under its lock; a replayed update
log, a reload and a test all run the same functions.

Who may mutate what: nothing outside this module builds a changed state; the objects a state
holds are treated as read-only everywhere else.

Pure computation: states in, states out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._articles import Article
from ._catalog import Catalog, id_hash
from ._index import CosineIndex
from ._languages import article_languages
from ._popularity import PopularityState
from ._profiles import NeighbourProfiles
from ._reaction_policy import ReactionReport, prepare_reactions
from ._reactions import Reaction
from ._rules import EditorialRules
from ._time_locality import Locality
from ._vectorize import TextVectorizer
from .exceptions import InvalidInputError

__all__ = ["Growth", "MAX_PENDING_REACTIONS", "ModelState", "ReactionPolicy", "drift_report", "with_articles",
           "with_reactions", "with_rules", "without_articles"]

MAX_PENDING_REACTIONS = 100_000
"""Most reactions a model keeps waiting for articles it does not hold yet; a batch that would
exceed it is refused whole (add the articles first, or drop the stray reactions)."""


@dataclass(frozen=True, slots=True)
class Growth:
    """How the model grew since it was fitted: articles added and their known-token share."""

    fitted: int
    added: int = 0
    added_tokens: int = 0
    added_known_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ReactionPolicy:
    """How reactions are weighed: ``weights`` per type (``None``: every type 1) and what to
    do with a type the weights do not name (``"error"`` or ``"ignore"``)."""

    weights: Mapping[str, float] | None = None
    unknown_reactions: str = "error"


@dataclass(frozen=True, slots=True)
class ModelState:
    """Everything a fitted model knows; replaced as a whole, never modified."""

    vectorizer: TextVectorizer
    index: CosineIndex
    catalog: Catalog
    popularity: PopularityState
    profiles: NeighbourProfiles | None = None
    pending: tuple[Reaction, ...] = ()
    growth: Growth = field(default=None)  # type: ignore[assignment]  # None: nothing added since the fit
    log_position: int = 0  # the last entry of the shared update log folded in (see recommender._updates)
    purged: frozenset[int] = frozenset()  # id hashes of purged articles, whose late reactions are dropped (_erase)
    rules: EditorialRules = field(default_factory=EditorialRules)  # blocks, pins, eligibility (recommender._rules)
    time_locality: Locality | None = None  # measured at fit: turns the automatic time prior on or off

    def __post_init__(self) -> None:
        if self.growth is None:
            object.__setattr__(self, "growth", Growth(fitted=len(self.catalog)))


def _copy_popularity(popularity: PopularityState) -> PopularityState:
    return PopularityState.from_arrays(popularity.config, popularity.mass, popularity.last)


def _check_pending(state: ModelState, new: int) -> None:
    if len(state.pending) + new > MAX_PENDING_REACTIONS:
        raise InvalidInputError(
            f"{len(state.pending) + new:,} reactions would wait for unknown articles, above the limit of "
            f"{MAX_PENDING_REACTIONS:,}; add those articles first or leave their reactions out")


def with_articles(state: ModelState, articles: Sequence[Article],
                  policy: ReactionPolicy) -> tuple[ModelState, ReactionReport]:
    """``state`` with ``articles`` indexed (fitted vocabulary and IDF) and the reactions that
    waited for them applied.

    Raises
    ------
    DuplicateArticleError
        An id the model holds already, or twice in ``articles``; nothing is added.
    InvalidInputError
        An article in a language the analysis does not support (named); nothing is added.
    """
    if not articles:  # nothing to index: the same state
        return state, ReactionReport()
    vectorizer = state.vectorizer
    languages = article_languages([a.id for a in articles], [a.language for a in articles],
                                  default=vectorizer.default_language, multilingual=vectorizer.multilingual)
    vectors, known, total = vectorizer.transform_with_coverage(
        [a.title for a in articles], [a.body for a in articles], languages)
    catalog = state.catalog.copy()
    # raises before anything is published
    catalog.extend(a.metadata() | {"language": language} for a, language in zip(articles, languages))
    popularity = _copy_popularity(state.popularity)
    popularity.grow(len(catalog))
    arrived = {a.id for a in articles}
    waiting = [r for r in state.pending if r.article_id in arrived]
    growth = state.growth
    growth = Growth(growth.fitted, growth.added + len(articles), growth.added_tokens + total,
                    growth.added_known_tokens + known)
    index = state.index.extended(vectors)
    profiles = state.profiles
    if profiles is not None:  # the new rows' cosines with every row before them
        n_before = len(state.catalog)
        profiles = profiles.added(lambda i: index.scores(vectors[i])[:n_before + i], vectors.shape[0])
    # waiting reactions were validated when recorded (types, times): only their rows are new
    batch, _, report = prepare_reactions(waiting, catalog, weights=policy.weights, unknown_reactions="ignore",
                                         now=math.inf)
    popularity.record(batch.rows, batch.weights, batch.times)
    new_state = replace(state, index=index, profiles=profiles, catalog=catalog, popularity=popularity, growth=growth,
                        pending=tuple(r for r in state.pending if r.article_id not in arrived),
                        purged=state.purged - {id_hash(i) for i in arrived} if state.purged else state.purged)
    return new_state, report


def without_articles(state: ModelState, article_ids: Sequence[str]) -> ModelState:
    """``state`` with ``article_ids`` unpublished (unknown ids raise, nothing removed)."""
    catalog = state.catalog.copy()
    catalog.remove(article_ids)
    return replace(state, catalog=catalog)


def with_reactions(state: ModelState, records: Sequence[Reaction], policy: ReactionPolicy,
                   now: float) -> tuple[ModelState, ReactionReport]:
    """``state`` with ``records`` added to the popularity; those for articles the model does
    not hold yet wait for them (at most :data:`MAX_PENDING_REACTIONS`).

    Raises
    ------
    InvalidInputError
        A future timestamp (after ``now``, epoch seconds, plus clock skew), an unknown type
        under ``unknown_reactions="error"``, or too many waiting reactions; nothing is applied.
    """
    batch, pending, report = prepare_reactions(records, state.catalog, weights=policy.weights,
                                               unknown_reactions=policy.unknown_reactions, now=now)
    if state.purged:  # a purged article's late reactions do not wait for it
        waiting = [r for r in pending if id_hash(r.article_id) not in state.purged]
        report = replace(report, pending=len(waiting), purged=len(pending) - len(waiting))
        pending = waiting
    _check_pending(state, len(pending))
    popularity = _copy_popularity(state.popularity)
    popularity.record(batch.rows, batch.weights, batch.times)
    return replace(state, popularity=popularity, pending=state.pending + tuple(pending)), report


def with_rules(state: ModelState, rules: EditorialRules) -> ModelState:
    """``state`` with its editorial rules replaced (they were validated when built: see
    :mod:`recommender._rules`); the articles, index and popularity are shared, not copied."""
    if not isinstance(rules, EditorialRules):
        raise TypeError(f"rules must be EditorialRules, got {type(rules).__name__}")
    return replace(state, rules=rules)


def drift_report(growth: Growth, *, max_added_share: float, min_known_share: float) -> dict[str, Any]:
    """Whether articles added since the fit call for a refit (see :meth:`Recommender.drift`)."""
    added_share = growth.added / max(growth.fitted, 1)
    known = growth.added_known_tokens / growth.added_tokens if growth.added_tokens else None
    reasons = []
    if added_share > max_added_share:
        reasons.append(f"{growth.added:,} articles added since fit, {added_share:.0%} of the {growth.fitted:,} fitted")
    if known is not None and known < min_known_share:
        reasons.append(f"only {known:.0%} of the added articles' words are in the vocabulary")
    return {"fitted": growth.fitted, "added": growth.added, "added_share": added_share,
            "known_token_share": known, "refit_advised": bool(reasons), "reasons": reasons}
