"""What the lists return: :class:`Hit` (one item) and :class:`Page` (the three lists under an article).

Pure data: frozen dataclasses, no computation. A hit carries what a page template needs to
render it (title, url, section, publication time), filled by the list builders from the
catalogue in one pass per list, so a site never looks articles up one by one;
:meth:`Hit.to_dict` and :meth:`Page.to_dict` give plain JSON values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Hit", "Page"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One item of a list.

    Parameters
    ----------
    article_id : str
    score : float
        What the list is ordered by; higher is better, compare scores within one list only:

        * **Related**: the Related score (see :meth:`Recommender.similarity`), in
          ``[0, 1 + core_weight]``: the anchored similarity plus the weighted share of close
          neighbours the two articles have in common; above about 0.5 is usually the same story.
        * **Ranking**, ``mode="popular"``: the smoothed reaction rate, in (weighted) reactions
          per hour of time on the site, both decayed with ``half_life_hours`` (see
          :mod:`recommender._popularity`); with ``decay="gravity"``, weighted reactions divided
          by ``(age_hours + 2) ** gravity``. ``mode="trending"``: the ratio of the story's recent
          reaction rate to its own usual rate (above 1: faster than usual).
        * **Recommendation**: the blended relevance, a weighted sum of signals in ``[0, 1]``
          (see :mod:`recommender._recommend`), at most the sum of the blend weights.
    explanation : str
        Why the item is there, in words for the page ("shares aldermere, festival",
        "popular in world: 36 recent reactions, about 4.2 an hour").
    terms : tuple of str
        For similarity hits, the shared terms that weigh most.
    tier : str
        For Related hits, ``"story"`` (the same event: another outlet's take, a follow-up) or
        ``"related"`` (see :mod:`recommender._related.tier`); ``""`` on other lists.
    title : str
    url : str or None
    section : str or None
    published_at : str
        The article's publication time as given at loading, ISO 8601 with zone.
    """

    article_id: str
    score: float
    explanation: str = ""
    terms: tuple[str, ...] = ()
    tier: str = ""
    title: str = ""
    url: str | None = None
    section: str | None = None
    published_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The hit as JSON values, keyed by field name (``terms`` as a list, ``score`` a float).

        Examples
        --------
        >>> Hit("a1", 0.5, "shares aldermere", ("aldermere",), "story", "Floods", None, "world",
        ...     "2026-10-03T08:15:00+00:00").to_dict()["terms"]
        ['aldermere']
        """
        return {"article_id": self.article_id, "score": float(self.score), "explanation": self.explanation,
                "terms": list(self.terms), "tier": self.tier, "title": self.title, "url": self.url,
                "section": self.section, "published_at": self.published_at}


@dataclass(frozen=True, slots=True)
class Page:
    """The three lists under one article; no story (nor a near-duplicate of one) twice.

    Parameters
    ----------
    related, ranking, recommendation : list of Hit
    """

    related: list[Hit]
    ranking: list[Hit]
    recommendation: list[Hit]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The page as JSON values: ``{"related": [...], "ranking": [...], "recommendation": [...]}``
        of :meth:`Hit.to_dict` items."""
        return {"related": [hit.to_dict() for hit in self.related],
                "ranking": [hit.to_dict() for hit in self.ranking],
                "recommendation": [hit.to_dict() for hit in self.recommendation]}
