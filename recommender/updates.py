"""How a fitted model changes while it serves: articles added or removed, reactions recorded.

Each function takes one :class:`~recommender.persist.Fitted` state and returns a new one;
the old state is never modified, so readers holding it keep a consistent view while
:class:`~recommender.Recommender` publishes the new one under its lock.

Pure computation: states in, states out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .articles import Article
from .catalog import Catalog
from .ingest import ReactionReport, prepare_reactions
from .persist import Fitted, Growth
from .popularity import PopularityState
from .reactions import Reaction

__all__ = ["drift_report", "with_articles", "with_reactions", "without_articles"]


def _copy_popularity(popularity: PopularityState) -> PopularityState:
    return PopularityState.from_arrays(popularity.config, popularity.mass, popularity.last)


def with_articles(state: Fitted, articles: Sequence[Article]) -> tuple[Fitted, list[Reaction]]:
    """``state`` with ``articles`` indexed (fitted vocabulary and IDF), and the pending
    reactions to them, which the caller records next."""
    vectors, known, total = state.vectorizer.transform_with_coverage(
        [a.title for a in articles], [a.body for a in articles])
    catalog = state.catalog.copy()
    catalog.extend(Catalog.record_of(a) for a in articles)
    popularity = _copy_popularity(state.popularity)
    popularity.grow(len(catalog))
    arrived = {a.id for a in articles}
    growth = state.growth
    growth = Growth(growth.fitted, growth.added + len(articles), growth.added_tokens + total,
                    growth.added_known_tokens + known)
    index = state.index.extended(vectors)
    profiles = state.profiles
    if profiles is not None:  # the new rows' cosines with every row before them
        n_before = len(state.catalog)
        profiles = profiles.added(lambda i: index.scores(vectors[i])[:n_before + i], vectors.shape[0])
    new_state = state.replace(index=index, profiles=profiles, catalog=catalog, popularity=popularity, growth=growth,
                              pending=tuple(r for r in state.pending if r.article_id not in arrived))
    return new_state, [r for r in state.pending if r.article_id in arrived]


def without_articles(state: Fitted, article_ids: Sequence[str]) -> Fitted:
    """``state`` with ``article_ids`` unpublished (unknown ids raise, nothing removed)."""
    catalog = state.catalog.copy()
    catalog.remove(article_ids)
    return state.replace(catalog=catalog)


def with_reactions(state: Fitted, records: Sequence[Reaction], *, weights: Mapping[str, float] | None,
                   unknown_reactions: str, now: int) -> tuple[Fitted, ReactionReport]:
    """``state`` with ``records`` added to the popularity (those for unknown ids kept pending)."""
    batch, pending, report = prepare_reactions(records, state.catalog, weights=weights,
                                               unknown_reactions=unknown_reactions, now=now)
    popularity = _copy_popularity(state.popularity)
    popularity.record(batch.rows, batch.weights, batch.times)
    return state.replace(popularity=popularity, pending=state.pending + tuple(pending)), report


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
